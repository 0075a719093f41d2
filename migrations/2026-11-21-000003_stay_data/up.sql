-- Data attached to a stay (services, assessments, CE events, current living situation, case
-- notes) and to a client (contacts, documents). Every datum records who entered it and when it
-- was collected: the consent engine's datum rule reads those two facts.

CREATE TABLE enrollment_data (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('service', 'assessment', 'ce_event', 'current_living_situation', 'case_note')),
    enrollment_id uuid NOT NULL REFERENCES enrollments (id),
    client_id uuid NOT NULL REFERENCES clients (id),
    occurred_on date NOT NULL,
    -- The structured, non-PII part, validated per kind by the service.
    fields jsonb NOT NULL DEFAULT '{}',
    -- Free text (PII class): shown only where the datum rule gives full access.
    text text,
    entered_by_agency uuid NOT NULL REFERENCES agencies (id),
    entered_by_user text NOT NULL,
    collected_on date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrollment_data_enrollment_idx ON enrollment_data (enrollment_id, kind, occurred_on);
CREATE INDEX enrollment_data_client_idx ON enrollment_data (client_id);

CREATE TABLE contacts (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    kind text NOT NULL CHECK (kind IN ('address', 'phone', 'email')),
    value text NOT NULL,
    entered_by_agency uuid NOT NULL REFERENCES agencies (id),
    entered_by_user text NOT NULL,
    collected_on date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_client_idx ON contacts (client_id);

CREATE TABLE documents (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    file_name text NOT NULL,
    content_type text NOT NULL,
    size_bytes integer NOT NULL,
    sha256 text NOT NULL,
    content bytea NOT NULL,
    description text,
    entered_by_agency uuid NOT NULL REFERENCES agencies (id),
    entered_by_user text NOT NULL,
    collected_on date NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_client_idx ON documents (client_id);
