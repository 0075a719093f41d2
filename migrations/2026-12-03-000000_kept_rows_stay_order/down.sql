SET LOCAL statement_timeout = 0;
DROP INDEX hmis_rows_enrollment_idx;
CREATE INDEX hmis_rows_enrollment_idx ON hmis_rows (enrollment_id);
