-- An export writes a source id unique per agency when another agency of the CoC imported the same
-- id in the same file (hmis_csv::export_ids). That was one probe of the primary key per other
-- importing agency for every row: with 70 importing agencies, an export of millions of kept rows
-- ran past the statement timeout. By file and source id it is one probe, whatever the agencies.
CREATE INDEX hmis_rows_source_idx ON hmis_rows (file, source_id);
CREATE INDEX import_sources_household_idx ON import_sources (source_id) WHERE file = 'Household';
