-- An export reads a stay's kept rows in pages of rows, in the order they came: (stay, seq) > the
-- last row read, LIMIT n (src/repo/hmis_export.rs, imported_page). The index of kept rows by
-- stay now holds their order too, so each page is a range of the index however many rows a stay
-- has (millions of bed nights), not a sort of all of them. It replaces the index by stay alone.
SET LOCAL statement_timeout = 0;
DROP INDEX hmis_rows_enrollment_idx;
CREATE INDEX hmis_rows_enrollment_idx ON hmis_rows (enrollment_id, seq);
