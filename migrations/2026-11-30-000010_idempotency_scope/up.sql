-- Idempotency keys are scoped by the whole principal (sub, agency, roles: the `principal` text),
-- a replay is authorized again against the record it concerns (`client_id`, with the access level
-- the first answer was given at), and stored answers, which may hold PII, are purged after a day.
ALTER TABLE idempotency_keys
    ADD COLUMN client_id uuid,
    ADD COLUMN access_level text CHECK (access_level IN ('full', 'limited'));
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
CREATE INDEX idempotency_keys_client_idx ON idempotency_keys (client_id) WHERE client_id IS NOT NULL;
