DROP INDEX idempotency_keys_client_idx;
DROP INDEX idempotency_keys_created_at_idx;
ALTER TABLE idempotency_keys DROP COLUMN access_level, DROP COLUMN client_id;
