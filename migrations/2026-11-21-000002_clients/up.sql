-- Client records, ROI consents, contributors, the append-only audit trail, helpdesk notices.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE clients (
    id uuid PRIMARY KEY,
    -- The short HMIS UID a case worker keeps in the agency's own tracking sheet; anonymous
    -- records are named after it.
    short_uid text NOT NULL UNIQUE,
    -- HUD 5.08 Personal ID: shared by records split from one another.
    person_id uuid NOT NULL,
    coc_code text NOT NULL REFERENCES cocs (code),
    created_by_agency uuid NOT NULL REFERENCES agencies (id),
    created_by_user text NOT NULL,
    identity_mode text NOT NULL CHECK (identity_mode IN ('identified', 'consent_refused', 'code_name', 'anonymous')),
    visibility text NOT NULL CHECK (visibility IN ('open', 'closed', 'private', 'locked')),
    lifecycle text NOT NULL DEFAULT 'active' CHECK (lifecycle IN ('active', 'superseded', 'merged')),
    superseded_by uuid REFERENCES clients (id),
    merged_into uuid REFERENCES clients (id),
    first_name text,
    middle_name text,
    last_name text,
    name_suffix text,
    alias text,
    name_quality smallint NOT NULL CHECK (name_quality IN (1, 2, 8, 9, 99)),
    ssn text CHECK (ssn ~ '^([0-9]{9}|[0-9]{4})$'),
    ssn_quality smallint NOT NULL CHECK (ssn_quality IN (1, 2, 8, 9, 99)),
    dob date,
    dob_quality smallint NOT NULL CHECK (dob_quality IN (1, 2, 8, 9, 99)),
    race text[] NOT NULL DEFAULT '{}',
    race_none smallint CHECK (race_none IN (8, 9, 99)),
    additional_race_ethnicity text,
    gender smallint[] NOT NULL DEFAULT '{}',
    gender_none smallint CHECK (gender_none IN (8, 9, 99)),
    different_identity_text text,
    sex smallint CHECK (sex IN (0, 1, 8, 9, 99)),
    veteran_status smallint NOT NULL DEFAULT 99 CHECK (veteran_status IN (0, 1, 8, 9, 99)),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clients_coc_idx ON clients (coc_code);
CREATE INDEX clients_agency_idx ON clients (created_by_agency);
CREATE INDEX clients_person_idx ON clients (person_id);
CREATE INDEX clients_ssn_idx ON clients (ssn) WHERE ssn IS NOT NULL;
CREATE INDEX clients_ssn_last4_idx ON clients (right(ssn, 4)) WHERE ssn IS NOT NULL;
CREATE INDEX clients_dob_idx ON clients (dob) WHERE dob IS NOT NULL;
CREATE INDEX clients_first_trgm_idx ON clients USING gin (lower(first_name) gin_trgm_ops);
CREATE INDEX clients_last_trgm_idx ON clients USING gin (lower(last_name) gin_trgm_ops);

CREATE TABLE roi_consents (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    recording_agency_id uuid NOT NULL REFERENCES agencies (id),
    recorded_by_user text NOT NULL,
    effective_from date NOT NULL,
    expires_on date,
    revoked_on date,
    scope_statewide boolean NOT NULL,
    scope_cocs text[] NOT NULL DEFAULT '{}',
    method text NOT NULL CHECK (method IN ('signed', 'verbal')),
    documentation_note text,
    revoked_by_user text,
    revoked_by_agency_id uuid REFERENCES agencies (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_on IS NULL OR expires_on > effective_from),
    CHECK (scope_statewide OR cardinality(scope_cocs) > 0)
);
CREATE INDEX roi_consents_client_idx ON roi_consents (client_id);

-- An agency becomes a contributor with its first datum in a record; the creating agency is one.
CREATE TABLE client_contributors (
    client_id uuid NOT NULL REFERENCES clients (id),
    agency_id uuid NOT NULL REFERENCES agencies (id),
    first_contributed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, agency_id)
);
CREATE INDEX client_contributors_agency_idx ON client_contributors (agency_id);

-- The accounting of disclosures. Rows hold ids, words and codes, never a PII value.
CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    actor_agency_id uuid,
    client_id uuid,
    action text NOT NULL,
    basis text,
    request_id text,
    access_reason text,
    detail jsonb
);
CREATE INDEX audit_events_client_idx ON audit_events (client_id, id);

-- Append-only for every role, superusers included: a trigger, not a grant.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Project stays (HUD 3.10, 3.11, 3.12, 3.15, 3.16, 3.917). An active Coordinated Entry stay
-- (project type 14, no exit) is a fact of the consent rules, so the table lives beside clients.
CREATE TABLE enrollments (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    project_id uuid NOT NULL REFERENCES projects (id),
    household_id uuid NOT NULL,
    relationship_to_hoh smallint NOT NULL CHECK (relationship_to_hoh IN (1, 2, 3, 4, 5, 99)),
    entry_date date NOT NULL,
    exit_date date,
    destination smallint,
    destination_subsidy_type smallint,
    enrollment_coc text,
    living_situation smallint,
    length_of_stay smallint,
    los_under_threshold smallint,
    previous_street_essh smallint,
    date_to_street_essh date,
    times_homeless_past_three_years smallint,
    months_homeless_past_three_years smallint,
    entry_assessment_required boolean NOT NULL DEFAULT false,
    entered_by_agency uuid NOT NULL REFERENCES agencies (id),
    entered_by_user text NOT NULL,
    collected_on date NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (exit_date IS NULL OR exit_date >= entry_date),
    CHECK ((exit_date IS NULL) = (destination IS NULL))
);
CREATE INDEX enrollments_client_idx ON enrollments (client_id);
CREATE INDEX enrollments_household_idx ON enrollments (household_id);
CREATE INDEX enrollments_open_idx ON enrollments (project_id) WHERE exit_date IS NULL;

-- What the server did that a helpdesk used to do by hand, for the CoC admins to see.
CREATE TABLE helpdesk_notices (
    id uuid PRIMARY KEY,
    coc_code text NOT NULL REFERENCES cocs (code),
    client_id uuid REFERENCES clients (id),
    kind text NOT NULL,
    message text NOT NULL,
    created_by_agency uuid REFERENCES agencies (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX helpdesk_notices_coc_idx ON helpdesk_notices (coc_code, id);
