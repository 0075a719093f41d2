DROP TABLE hmis_rows;
DROP TABLE import_sources;
DROP TABLE import_jobs;
