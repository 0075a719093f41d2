-- A kept HMIS CSV row carries what import_sources held for it (the hash of its values and the
-- values outside their code lists): one row and one key per source row, not two.
-- import_sources keeps only what has no kept row: the source HouseholdIDs.
ALTER TABLE hmis_rows
    ADD COLUMN row_hash text NOT NULL DEFAULT '',
    ADD COLUMN invalid jsonb;
UPDATE hmis_rows h SET row_hash = s.row_hash, invalid = s.invalid
  FROM import_sources s
 WHERE s.agency_id = h.agency_id AND s.file = h.file AND s.source_id = h.source_id;
DELETE FROM import_sources s
 USING hmis_rows h
 WHERE s.agency_id = h.agency_id AND s.file = h.file AND s.source_id = h.source_id;

-- A stay's rows reach their record through the stay (a merge moves stays, and a de-identified
-- record's stays take their rows with them): client_id is set only on rows of no stay (Client).
UPDATE hmis_rows SET client_id = NULL WHERE enrollment_id IS NOT NULL;
DROP INDEX hmis_rows_client_idx;
CREATE INDEX hmis_rows_client_idx ON hmis_rows (client_id) WHERE client_id IS NOT NULL;
-- Rows kept only whole have no target.
DROP INDEX hmis_rows_target_idx;
CREATE INDEX hmis_rows_target_idx ON hmis_rows (target_id) WHERE target_id IS NOT NULL;

-- Kept rows are written once per import and read whole (the export, hmis-records) or by one
-- key (`->>`, which json has too): json, as sent, costs PostgreSQL less to take than jsonb.
ALTER TABLE hmis_rows ALTER COLUMN fields TYPE json USING fields::json;

-- The importing agency is checked once per statement, not once per row (the row-level foreign
-- key cost a third of taking a kept row). Agencies are never deleted.
ALTER TABLE hmis_rows DROP CONSTRAINT hmis_rows_agency_id_fkey;
CREATE FUNCTION hmis_rows_agency_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hmis_rows_new n
                WHERE NOT EXISTS (SELECT 1 FROM agencies a WHERE a.id = n.agency_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'hmis_rows.agency_id names no agency';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER hmis_rows_agency_inserted AFTER INSERT ON hmis_rows
    REFERENCING NEW TABLE AS hmis_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_rows_agency_check();
CREATE TRIGGER hmis_rows_agency_updated AFTER UPDATE ON hmis_rows
    REFERENCING NEW TABLE AS hmis_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_rows_agency_check();
