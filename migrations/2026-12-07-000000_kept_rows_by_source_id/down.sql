DROP INDEX import_sources_household_idx;
DROP INDEX hmis_rows_source_idx;
