ALTER TABLE hmis_rows
    ALTER COLUMN file TYPE text COLLATE "default",
    ALTER COLUMN source_id TYPE text COLLATE "default";
DROP TRIGGER enrollments_kept_rows_deleted ON enrollments;
DROP FUNCTION enrollments_delete_kept_rows();
DROP TRIGGER hmis_rows_references_updated ON hmis_rows;
DROP TRIGGER hmis_rows_references_inserted ON hmis_rows;
DROP FUNCTION hmis_rows_references_check();
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
ALTER TABLE hmis_rows ADD CONSTRAINT hmis_rows_enrollment_id_fkey
    FOREIGN KEY (enrollment_id) REFERENCES enrollments (id) ON DELETE CASCADE;
