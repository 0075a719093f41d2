-- Stay data's references checked once per statement instead of once per row (docs/benchmarks.md):
-- an import writes stay data by the thousand with `COPY`, and the three row-level foreign keys
-- (stay, record, agency) cost about three quarters of taking a datum. The statement-level
-- trigger below refuses the same rows the foreign keys did (SQLSTATE 23503, foreign_key_violation),
-- on insert and on update; deleting a stay, record or agency that stay data still names is refused
-- as the foreign keys' NO ACTION did. Nothing in Hearth deletes them; the guard is for hands on SQL.
ALTER TABLE enrollment_data
    DROP CONSTRAINT enrollment_data_client_id_fkey,
    DROP CONSTRAINT enrollment_data_enrollment_id_fkey,
    DROP CONSTRAINT enrollment_data_entered_by_agency_fkey;

CREATE FUNCTION enrollment_data_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM enrollment_data_new n
                WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.id = n.enrollment_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'enrollment_data.enrollment_id names no stay';
    END IF;
    IF EXISTS (SELECT 1 FROM enrollment_data_new n
                WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = n.client_id)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'enrollment_data.client_id names no record';
    END IF;
    IF EXISTS (SELECT 1 FROM enrollment_data_new n
                WHERE NOT EXISTS (SELECT 1 FROM agencies a WHERE a.id = n.entered_by_agency)) THEN
        RAISE foreign_key_violation USING MESSAGE = 'enrollment_data.entered_by_agency names no agency';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER enrollment_data_references_inserted AFTER INSERT ON enrollment_data
    REFERENCING NEW TABLE AS enrollment_data_new
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_data_references_check();
CREATE TRIGGER enrollment_data_references_updated AFTER UPDATE ON enrollment_data
    REFERENCING NEW TABLE AS enrollment_data_new
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_data_references_check();

-- The referenced side: what stay data names cannot be deleted under it. (No statement changes a
-- stay's, record's or agency's id; an agency's deletion scans stay data, having no index for it.)
-- TG_ARGV: the column of enrollment_data that names the deleted rows, and what they are.
CREATE FUNCTION enrollment_data_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    named boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM enrollment_data d JOIN referenced_old o ON d.%I = o.id)',
                   TG_ARGV[0]) INTO named;
    IF named THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('a %s that stay data names cannot be removed', TG_ARGV[1]);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER enrollment_data_stays_deleted AFTER DELETE ON enrollments
    REFERENCING OLD TABLE AS referenced_old
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_data_referenced('enrollment_id', 'stay');
CREATE TRIGGER enrollment_data_records_deleted AFTER DELETE ON clients
    REFERENCING OLD TABLE AS referenced_old
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_data_referenced('client_id', 'record');
CREATE TRIGGER enrollment_data_agencies_deleted AFTER DELETE ON agencies
    REFERENCING OLD TABLE AS referenced_old
    FOR EACH STATEMENT EXECUTE FUNCTION enrollment_data_referenced('entered_by_agency', 'agency');
