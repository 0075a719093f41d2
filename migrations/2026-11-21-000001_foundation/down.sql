DROP TABLE idempotency_keys;
DROP TABLE projects;
DROP TABLE agencies;
DROP TABLE cocs;
