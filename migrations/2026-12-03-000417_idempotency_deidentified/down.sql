ALTER TABLE idempotency_keys DROP COLUMN deidentified_at;
