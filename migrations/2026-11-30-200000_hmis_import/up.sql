-- HUD HMIS CSV import: jobs, the source ids an import maps to Hearth's ids, and the rows of the
-- files Hearth has no typed home for yet (kept whole, so an import loses nothing).

CREATE TABLE import_jobs (
    id uuid PRIMARY KEY,
    agency_id uuid NOT NULL REFERENCES agencies (id),
    mode text NOT NULL CHECK (mode IN ('strict', 'lenient')),
    status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    submitted_by text NOT NULL,
    version text,
    -- Rows per file: {"Client": {"read": n, "imported": n, "skipped": n}, ...}
    progress jsonb NOT NULL DEFAULT '{}',
    -- The first problems (file, line, column, code, severity, message; never a value).
    problems jsonb NOT NULL DEFAULT '[]',
    problem_count integer NOT NULL DEFAULT 0,
    summary jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX import_jobs_agency_idx ON import_jobs (agency_id, created_at);

-- One row per source row an import took: which Hearth row it became, and a hash of its values,
-- so that importing the same export again changes nothing and a changed row updates its datum.
CREATE TABLE import_sources (
    agency_id uuid NOT NULL REFERENCES agencies (id),
    file text NOT NULL,
    source_id text NOT NULL,
    target_id uuid NOT NULL,
    row_hash text NOT NULL,
    -- Values outside their code list, kept as sent: {"Column": "value"} (lenient mode).
    invalid jsonb,
    PRIMARY KEY (agency_id, file, source_id)
);
CREATE INDEX import_sources_target_idx ON import_sources (target_id);

-- Rows of files Hearth does not map to its own tables yet, kept as HUD columns to values.
-- Never answered by the API; removed with their record by de-identification.
CREATE TABLE hmis_rows (
    agency_id uuid NOT NULL REFERENCES agencies (id),
    file text NOT NULL,
    source_id text NOT NULL,
    client_id uuid REFERENCES clients (id) ON DELETE CASCADE,
    enrollment_id uuid REFERENCES enrollments (id) ON DELETE CASCADE,
    fields jsonb NOT NULL,
    PRIMARY KEY (agency_id, file, source_id)
);
CREATE INDEX hmis_rows_client_idx ON hmis_rows (client_id);
CREATE INDEX hmis_rows_enrollment_idx ON hmis_rows (enrollment_id);
