-- Cheaper keys for kept HMIS CSV rows (an import writes one per source row; docs/benchmarks.md):
--   * the stay a kept row hangs from is checked once per statement, with its agency, by the
--     statement-level trigger (the row-level foreign key cost a third of taking a kept row);
--     deleting a stay still deletes its kept rows (a statement-level trigger, as the foreign
--     key's ON DELETE CASCADE did);
--   * `file` and `source_id` compare bytewise (COLLATE "C"): they are HUD file names and
--     source ids, never sorted for people.
ALTER TABLE hmis_rows DROP CONSTRAINT hmis_rows_enrollment_id_fkey;

CREATE FUNCTION hmis_rows_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hmis_rows_new n
                WHERE NOT EXISTS (SELECT 1 FROM agencies a WHERE a.id = n.agency_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'hmis_rows.agency_id names no agency';
    END IF;
    IF EXISTS (SELECT 1 FROM hmis_rows_new n
                WHERE n.enrollment_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.id = n.enrollment_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'hmis_rows.enrollment_id names no stay';
    END IF;
    RETURN NULL;
END
$$;
DROP TRIGGER hmis_rows_agency_inserted ON hmis_rows;
DROP TRIGGER hmis_rows_agency_updated ON hmis_rows;
DROP FUNCTION hmis_rows_agency_check();
CREATE TRIGGER hmis_rows_references_inserted AFTER INSERT ON hmis_rows
    REFERENCING NEW TABLE AS hmis_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_rows_references_check();
CREATE TRIGGER hmis_rows_references_updated AFTER UPDATE ON hmis_rows
    REFERENCING NEW TABLE AS hmis_rows_new
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_rows_references_check();

CREATE FUNCTION enrollments_delete_kept_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM hmis_rows h USING enrollments_gone g WHERE h.enrollment_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER enrollments_kept_rows_deleted AFTER DELETE ON enrollments
    REFERENCING OLD TABLE AS enrollments_gone
    FOR EACH STATEMENT EXECUTE FUNCTION enrollments_delete_kept_rows();

ALTER TABLE hmis_rows
    ALTER COLUMN file TYPE text COLLATE "C",
    ALTER COLUMN source_id TYPE text COLLATE "C";
