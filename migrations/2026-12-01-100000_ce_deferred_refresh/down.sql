DROP TRIGGER ce_enrollments_changed ON enrollments;
CREATE TRIGGER ce_enrollments_changed AFTER INSERT OR UPDATE OR DELETE ON enrollments
    FOR EACH ROW EXECUTE FUNCTION ce_enrollments_changed();
DROP TRIGGER ce_data_changed ON enrollment_data;
CREATE TRIGGER ce_data_changed AFTER INSERT OR UPDATE OR DELETE ON enrollment_data
    FOR EACH ROW EXECUTE FUNCTION ce_data_changed();
