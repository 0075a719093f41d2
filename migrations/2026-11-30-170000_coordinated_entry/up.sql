-- Coordinated Entry (issue 8): CoC-wide CE entry points and the agencies that take part in CE,
-- refusals as stay data, the by-name list's inactivity threshold, and the priority list: one
-- row per (CoC, client) with an active CE stay, kept by triggers in the order the list is read
-- (so a page deep in the list costs what the first one costs), and a log of the facts that
-- decide whether a client is listed, so an incremental pull can tell what changed since when.

ALTER TABLE cocs ADD COLUMN inactivity_days integer NOT NULL DEFAULT 90
    CHECK (inactivity_days BETWEEN 1 AND 3650);
ALTER TABLE agencies ADD COLUMN participates_in_ce boolean NOT NULL DEFAULT false;
ALTER TABLE projects ADD COLUMN ce_entry_point boolean NOT NULL DEFAULT false;
UPDATE projects SET ce_entry_point = true WHERE project_type = 14;
ALTER TABLE projects ADD CONSTRAINT projects_ce_entry_point_is_ce
    CHECK (NOT ce_entry_point OR project_type = 14);

ALTER TABLE enrollment_data DROP CONSTRAINT enrollment_data_kind_check;
ALTER TABLE enrollment_data ADD CONSTRAINT enrollment_data_kind_check
    CHECK (kind IN ('service', 'assessment', 'ce_event', 'current_living_situation', 'case_note', 'refusal'));

-- When an ROI was recorded and when its revocation was written (revoked_on is the day it takes
-- effect): an incremental pull rebuilds what was listed at a past instant from what was known
-- then. Writers of a CoC's list facts hold a shared advisory lock (8008, hash of the CoC) until
-- they commit, so a pull can tell the earliest instant an uncommitted change may carry.
CREATE FUNCTION ce_feed_lock(p_coc text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock_shared(8008, hashtext(p_coc))
$$;

-- The instant up to which every change to the CoC's list facts is committed: now, or the start
-- of the oldest transaction still writing them.
CREATE FUNCTION ce_feed_as_of(p_coc text) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
    SELECT LEAST(clock_timestamp(), (
        SELECT min(a.xact_start) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.classid = 8008
           AND l.objid = hashtext(p_coc)::oid AND l.objsubid = 2 AND l.pid <> pg_backend_pid()))
$$;

ALTER TABLE roi_consents ADD COLUMN recorded_at timestamptz;
ALTER TABLE roi_consents ADD COLUMN revoked_at timestamptz;
UPDATE roi_consents SET recorded_at = created_at;
UPDATE roi_consents SET revoked_at = created_at WHERE revoked_on IS NOT NULL;
CREATE FUNCTION roi_consents_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    FOR k IN SELECT coc_code FROM ce_priority WHERE client_id = NEW.client_id LOOP
        PERFORM ce_feed_lock(k);
    END LOOP;
    IF TG_OP = 'INSERT' THEN
        NEW.recorded_at := clock_timestamp();
        IF NEW.revoked_on IS NOT NULL THEN
            NEW.revoked_at := NEW.recorded_at;
        END IF;
    ELSIF NEW.revoked_on IS DISTINCT FROM OLD.revoked_on THEN
        NEW.revoked_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$;
CREATE INDEX roi_consents_from_idx ON roi_consents (effective_from);
CREATE INDEX roi_consents_expires_idx ON roi_consents (expires_on) WHERE expires_on IS NOT NULL;
CREATE INDEX roi_consents_revoked_on_idx ON roi_consents (revoked_on) WHERE revoked_on IS NOT NULL;

-- The priority list's rows: the client's earliest active CE stay in the CoC, its latest CE
-- assessment, its refusals. rank_key sorts ascending: minus the score, +Infinity without one.
CREATE TABLE ce_priority (
    coc_code text NOT NULL REFERENCES cocs (code),
    client_id uuid NOT NULL REFERENCES clients (id),
    enrollment_id uuid NOT NULL,
    household_id uuid NOT NULL,
    entry_date date NOT NULL,
    entry_agency uuid NOT NULL,
    entry_collected_on date NOT NULL,
    rank_key double precision NOT NULL,
    priority_score double precision,
    assessed_on date,
    assessment_agency uuid,
    assessment_collected_on date,
    prioritization_status smallint,
    refusal_count integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (coc_code, client_id)
);
CREATE INDEX ce_priority_order_idx ON ce_priority (coc_code, rank_key, entry_date, client_id);
CREATE INDEX ce_priority_client_idx ON ce_priority (client_id);

-- What decided listing, each time it may have changed (never why a client left the list: the
-- answer says only "no longer listed").
CREATE TABLE ce_list_log (
    id bigserial PRIMARY KEY,
    coc_code text NOT NULL,
    client_id uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    active_ce boolean NOT NULL,
    visibility text NOT NULL,
    identity_mode text NOT NULL
);
CREATE INDEX ce_list_log_coc_at_idx ON ce_list_log (coc_code, at);
CREATE INDEX ce_list_log_client_idx ON ce_list_log (client_id, coc_code, at DESC, id DESC);

CREATE FUNCTION ce_refresh(p_client uuid, p_coc text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s record;
    a record;
    c record;
    n integer;
    active boolean;
BEGIN
    PERFORM ce_feed_lock(p_coc);
    SELECT e.id, e.household_id, e.entry_date, e.entered_by_agency, e.collected_on INTO s
      FROM enrollments e JOIN projects p ON p.id = e.project_id JOIN agencies g ON g.id = p.agency_id
     WHERE e.client_id = p_client AND p.project_type = 14 AND e.exit_date IS NULL AND g.coc_code = p_coc
     ORDER BY e.entry_date, e.id LIMIT 1;
    active := FOUND;
    SELECT identity_mode, visibility INTO c FROM clients WHERE id = p_client;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF NOT active THEN
        DELETE FROM ce_priority WHERE coc_code = p_coc AND client_id = p_client;
    ELSE
        SELECT d.occurred_on, d.entered_by_agency, d.collected_on,
               (d.fields->>'priority_score')::double precision AS score,
               (d.fields->>'prioritization_status')::smallint AS status INTO a
          FROM enrollment_data d JOIN enrollments e ON e.id = d.enrollment_id
          JOIN projects p ON p.id = e.project_id JOIN agencies g ON g.id = p.agency_id
         WHERE d.client_id = p_client AND d.kind = 'assessment' AND p.project_type = 14
           AND g.coc_code = p_coc
         ORDER BY d.occurred_on DESC, d.created_at DESC, d.id DESC LIMIT 1;
        SELECT count(*) INTO n
          FROM enrollment_data d JOIN enrollments e ON e.id = d.enrollment_id
          JOIN projects p ON p.id = e.project_id JOIN agencies g ON g.id = p.agency_id
         WHERE d.client_id = p_client AND d.kind = 'refusal' AND g.coc_code = p_coc;
        INSERT INTO ce_priority AS t (coc_code, client_id, enrollment_id, household_id, entry_date,
            entry_agency, entry_collected_on, rank_key, priority_score, assessed_on,
            assessment_agency, assessment_collected_on, prioritization_status, refusal_count, updated_at)
        VALUES (p_coc, p_client, s.id, s.household_id, s.entry_date, s.entered_by_agency,
            s.collected_on, COALESCE(-a.score, 'Infinity'::double precision), a.score, a.occurred_on,
            a.entered_by_agency, a.collected_on, a.status, n, now())
        ON CONFLICT (coc_code, client_id) DO UPDATE SET
            enrollment_id = EXCLUDED.enrollment_id, household_id = EXCLUDED.household_id,
            entry_date = EXCLUDED.entry_date, entry_agency = EXCLUDED.entry_agency,
            entry_collected_on = EXCLUDED.entry_collected_on, rank_key = EXCLUDED.rank_key,
            priority_score = EXCLUDED.priority_score, assessed_on = EXCLUDED.assessed_on,
            assessment_agency = EXCLUDED.assessment_agency,
            assessment_collected_on = EXCLUDED.assessment_collected_on,
            prioritization_status = EXCLUDED.prioritization_status,
            refusal_count = EXCLUDED.refusal_count, updated_at = now();
    END IF;
    INSERT INTO ce_list_log (coc_code, client_id, active_ce, visibility, identity_mode)
    VALUES (p_coc, p_client, active, c.visibility, c.identity_mode);
END
$$;

-- The CoC of a CE project, or NULL for any other project.
CREATE FUNCTION ce_project_coc(p_project uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT g.coc_code FROM projects p JOIN agencies g ON g.id = p.agency_id
     WHERE p.id = p_project AND p.project_type = 14
$$;

CREATE FUNCTION ce_enrollments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        k := ce_project_coc(OLD.project_id);
        IF k IS NOT NULL THEN
            PERFORM ce_refresh(OLD.client_id, k);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        k := ce_project_coc(NEW.project_id);
        IF k IS NOT NULL THEN
            PERFORM ce_refresh(NEW.client_id, k);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ce_enrollments_changed AFTER INSERT OR UPDATE OR DELETE ON enrollments
    FOR EACH ROW EXECUTE FUNCTION ce_enrollments_changed();

CREATE FUNCTION ce_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    k text;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF r.kind IN ('assessment', 'refusal') THEN
        SELECT ce_project_coc(e.project_id) INTO k FROM enrollments e WHERE e.id = r.enrollment_id;
        IF k IS NOT NULL THEN
            PERFORM ce_refresh(r.client_id, k);
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER ce_data_changed AFTER INSERT OR UPDATE OR DELETE ON enrollment_data
    FOR EACH ROW EXECUTE FUNCTION ce_data_changed();

-- Sharing changes of a client on a list: its visibility, identity, ROIs.
CREATE FUNCTION ce_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
    v_id uuid;
BEGIN
    IF TG_TABLE_NAME = 'clients' THEN v_id := NEW.id; ELSE v_id := NEW.client_id; END IF;
    FOR k IN SELECT coc_code FROM ce_priority WHERE client_id = v_id LOOP
        PERFORM ce_refresh(v_id, k);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER roi_consents_recorded BEFORE INSERT OR UPDATE ON roi_consents
    FOR EACH ROW EXECUTE FUNCTION roi_consents_recorded();
CREATE TRIGGER ce_client_changed AFTER UPDATE OF visibility, identity_mode ON clients
    FOR EACH ROW EXECUTE FUNCTION ce_client_changed();
CREATE TRIGGER ce_roi_changed AFTER INSERT OR UPDATE ON roi_consents
    FOR EACH ROW EXECUTE FUNCTION ce_client_changed();

-- Whether a client was on the CoC's list at instant p_at, from what was known then: the last
-- logged facts before it, and the ROIs recorded (and not yet revoked) before it, judged on its
-- day (UTC, the service's day). p_any_visibility: the coc_admin's CoC view.
CREATE FUNCTION ce_listed_at(p_client uuid, p_coc text, p_at timestamptz, p_any_visibility boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT COALESCE((
        SELECT l.active_ce AND (p_any_visibility OR (l.visibility = 'open' AND (
            l.identity_mode IN ('consent_refused', 'anonymous')
            OR EXISTS (SELECT 1 FROM roi_consents r
                        WHERE r.client_id = p_client AND r.recorded_at < p_at
                          AND r.effective_from <= (p_at AT TIME ZONE 'UTC')::date
                          AND (r.revoked_on IS NULL OR r.revoked_at >= p_at
                               OR (p_at AT TIME ZONE 'UTC')::date < r.revoked_on)
                          AND (r.expires_on IS NULL OR (p_at AT TIME ZONE 'UTC')::date < r.expires_on)
                          AND (r.scope_statewide OR p_coc = ANY (r.scope_cocs))))))
          FROM ce_list_log l
         WHERE l.client_id = p_client AND l.coc_code = p_coc AND l.at < p_at
         ORDER BY l.at DESC, l.id DESC LIMIT 1), false)
$$;
