CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP INDEX IF EXISTS idempotency_keys_client_ids_idx;
ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS client_ids;
DROP TABLE IF EXISTS deidentification_requests;
