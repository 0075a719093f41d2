-- A bulk writer (the HMIS CSV import) may defer the Coordinated Entry priority list's upkeep to
-- the end of its transaction: with `SET LOCAL hearth.ce_deferred = 'on'` the per-row triggers on
-- enrollments and enrollment_data are not queued at all (their WHEN is false), and the writer
-- then calls ce_refresh once for each (client, CoC) its rows touched, after `SET LOCAL
-- hearth.ce_deferred = 'off'` (repo::hmis_import::refresh_ce_priority). Every other writer is
-- unchanged: the setting is unset, so the triggers fire per row as before.
DROP TRIGGER ce_enrollments_changed ON enrollments;
CREATE TRIGGER ce_enrollments_changed AFTER INSERT OR UPDATE OR DELETE ON enrollments
    FOR EACH ROW WHEN (current_setting('hearth.ce_deferred', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION ce_enrollments_changed();
DROP TRIGGER ce_data_changed ON enrollment_data;
CREATE TRIGGER ce_data_changed AFTER INSERT OR UPDATE OR DELETE ON enrollment_data
    FOR EACH ROW WHEN (current_setting('hearth.ce_deferred', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION ce_data_changed();
