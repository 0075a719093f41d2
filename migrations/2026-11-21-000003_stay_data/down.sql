DROP TABLE documents;
DROP TABLE contacts;
DROP TABLE enrollment_data;
