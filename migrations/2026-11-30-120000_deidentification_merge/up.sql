-- De-identification requests (Spokane job aid: the support ticket), a way to find the
-- idempotency store's stored responses by client, and the one sanctioned change to audit rows.

CREATE TABLE deidentification_requests (
    id uuid PRIMARY KEY,
    coc_code text NOT NULL REFERENCES cocs (code),
    -- The head of household when there is one.
    client_id uuid NOT NULL REFERENCES clients (id),
    member_ids uuid[] NOT NULL DEFAULT '{}',
    -- Members fleeing domestic violence: removed from the household into one of their own.
    dv_member_ids uuid[] NOT NULL DEFAULT '{}',
    duplicate_ids uuid[] NOT NULL DEFAULT '{}',
    -- PII-scanned when filed, scrubbed again at completion.
    description text,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'rejected')),
    rejection_reason text,
    requested_by_agency uuid NOT NULL REFERENCES agencies (id),
    requested_by_user text NOT NULL,
    decided_by_user text,
    decided_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deidentification_requests_agency_idx ON deidentification_requests (requested_by_agency, id);
CREATE INDEX deidentification_requests_coc_idx ON deidentification_requests (coc_code, id);
CREATE INDEX deidentification_requests_client_idx ON deidentification_requests (client_id);

-- The client records a stored response is about, so de-identification can find and scrub it.
ALTER TABLE idempotency_keys ADD COLUMN client_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX idempotency_keys_client_ids_idx ON idempotency_keys USING gin (client_ids);

-- Audit rows stay append-only, with one exception: the de-identification workflow, inside its
-- own transaction, may rewrite the free parts of a row (access_reason, detail, request_id) to
-- scrub a former value from them. It says so with SET LOCAL hearth.audit_scrub = 'on'; who
-- acted, on what, when and why (the action) can never change, and rows are never deleted.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('hearth.audit_scrub', true) = 'on'
       AND NEW.id = OLD.id
       AND NEW.occurred_at = OLD.occurred_at
       AND NEW.actor = OLD.actor
       AND NEW.actor_agency_id IS NOT DISTINCT FROM OLD.actor_agency_id
       AND NEW.client_id IS NOT DISTINCT FROM OLD.client_id
       AND NEW.action = OLD.action
       AND NEW.basis IS NOT DISTINCT FROM OLD.basis THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
