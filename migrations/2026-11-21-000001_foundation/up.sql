-- Tenants: CoCs with their consent policy, agencies, projects; and the idempotency ledger.

CREATE TABLE cocs (
    code text PRIMARY KEY CHECK (code ~ '^[A-Z]{2}-[0-9]{3}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    anonymous_name_format text NOT NULL DEFAULT 'uid_anonymous'
        CHECK (anonymous_name_format IN ('uid_anonymous', 'anonymous_anonymous')),
    anonymous_dob_rule text NOT NULL DEFAULT 'jan1_of_birth_year'
        CHECK (anonymous_dob_rule IN ('jan1_of_birth_year', 'jan1_of_next_year_unless_young_or_old', 'not_collected')),
    anonymous_ssn_quality smallint NOT NULL DEFAULT 99 CHECK (anonymous_ssn_quality IN (9, 99)),
    roi_grant_mode text NOT NULL DEFAULT 'window' CHECK (roi_grant_mode IN ('window', 'split')),
    roi_default_term_months integer CHECK (roi_default_term_months BETWEEN 1 AND 1200),
    observational_assessment_after_refusals integer NOT NULL DEFAULT 2
        CHECK (observational_assessment_after_refusals BETWEEN 0 AND 100),
    locked_visible_to_ce_assessors boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
    id uuid PRIMARY KEY,
    coc_code text NOT NULL REFERENCES cocs (code),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    shares_data boolean NOT NULL DEFAULT false,
    victim_service_provider boolean NOT NULL DEFAULT false,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agencies_coc_idx ON agencies (coc_code);

CREATE TABLE projects (
    id uuid PRIMARY KEY,
    agency_id uuid NOT NULL REFERENCES agencies (id),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    project_type smallint NOT NULL CHECK (project_type IN (0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14)),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_agency_idx ON projects (agency_id);

-- A replayed creating POST answers the first result. The row is written in the same transaction
-- as the creation, so a key can never point at a change that did not happen.
CREATE TABLE idempotency_keys (
    principal text NOT NULL,
    key text NOT NULL,
    request_fingerprint text NOT NULL,
    response_status smallint NOT NULL,
    response_body jsonb NOT NULL,
    response_location text,
    response_etag text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
