DROP TRIGGER hmis_rows_agency_updated ON hmis_rows;
DROP TRIGGER hmis_rows_agency_inserted ON hmis_rows;
DROP FUNCTION hmis_rows_agency_check();
ALTER TABLE hmis_rows ADD CONSTRAINT hmis_rows_agency_id_fkey
    FOREIGN KEY (agency_id) REFERENCES agencies (id);
ALTER TABLE hmis_rows ALTER COLUMN fields TYPE jsonb USING fields::jsonb;
DROP INDEX hmis_rows_target_idx;
CREATE INDEX hmis_rows_target_idx ON hmis_rows (target_id);
DROP INDEX hmis_rows_client_idx;
UPDATE hmis_rows h SET client_id = e.client_id FROM enrollments e WHERE e.id = h.enrollment_id;
CREATE INDEX hmis_rows_client_idx ON hmis_rows (client_id);
INSERT INTO import_sources (agency_id, file, source_id, target_id, row_hash, invalid)
SELECT agency_id, file, source_id, COALESCE(target_id, enrollment_id, client_id, agency_id),
       row_hash, invalid
  FROM hmis_rows;
ALTER TABLE hmis_rows DROP COLUMN row_hash, DROP COLUMN invalid;
