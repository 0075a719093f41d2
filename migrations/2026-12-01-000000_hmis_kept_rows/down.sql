DROP INDEX hmis_rows_target_idx;
ALTER TABLE hmis_rows DROP COLUMN seq, DROP COLUMN collected_on, DROP COLUMN target_id;
