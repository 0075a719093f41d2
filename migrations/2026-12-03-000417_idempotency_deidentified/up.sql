-- A stored answer that named a record which has since been de-identified is dropped: its body,
-- location, ETag and request fingerprint are cleared and `deidentified_at` is set, so a replay
-- of its key answers a problem (409) instead of the record's former state (or a scrubbed copy
-- of it that no schema describes).
ALTER TABLE idempotency_keys ADD COLUMN deidentified_at timestamptz;
