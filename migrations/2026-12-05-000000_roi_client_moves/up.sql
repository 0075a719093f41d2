-- An ROI moves to another record when its record is merged into that one. The priority list's
-- incremental pulls rebuild what was listed at a past instant from the ROIs a record held then
-- (ce_listed_at): without a trace of the move, a merged duplicate looked as if it had never been
-- open, so a pull since before the merge did not name it as no longer listed. Each move of an
-- ROI is kept here, and ce_listed_at judges a record by the ROIs it held at the instant asked.
CREATE TABLE roi_client_moves (
    id bigserial PRIMARY KEY,
    roi_id uuid NOT NULL,
    from_client uuid NOT NULL,
    to_client uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX roi_client_moves_roi_idx ON roi_client_moves (roi_id, at, id);
CREATE INDEX roi_client_moves_from_idx ON roi_client_moves (from_client, at);

CREATE FUNCTION roi_client_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    -- The record it leaves may be on a list too: its writers hold that list's lock as well.
    FOR k IN SELECT coc_code FROM ce_priority WHERE client_id = OLD.client_id LOOP
        PERFORM ce_feed_lock(k);
    END LOOP;
    INSERT INTO roi_client_moves (roi_id, from_client, to_client)
    VALUES (OLD.id, OLD.client_id, NEW.client_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER roi_client_moved AFTER UPDATE OF client_id ON roi_consents
    FOR EACH ROW WHEN (OLD.client_id IS DISTINCT FROM NEW.client_id)
    EXECUTE FUNCTION roi_client_moved();

-- The record an ROI belonged to at instant p_at (a move is known from its instant on, as a
-- logged fact is: at < p_at).
CREATE FUNCTION roi_client_at(p_roi uuid, p_now uuid, p_at timestamptz) RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT m.from_client FROM roi_client_moves m
                      WHERE m.roi_id = p_roi AND m.at >= p_at
                      ORDER BY m.at, m.id LIMIT 1), p_now)
$$;

-- As before, with the ROIs the record held at p_at (those moved away since included, those
-- moved to it since left out).
CREATE OR REPLACE FUNCTION ce_listed_at(p_client uuid, p_coc text, p_at timestamptz, p_any_visibility boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT COALESCE((
        SELECT l.active_ce AND (p_any_visibility OR (l.visibility = 'open' AND (
            l.identity_mode IN ('consent_refused', 'anonymous')
            OR EXISTS (SELECT 1 FROM roi_consents r
                        WHERE (r.client_id = p_client
                               OR r.id IN (SELECT m.roi_id FROM roi_client_moves m
                                            WHERE m.from_client = p_client AND m.at >= p_at))
                          AND roi_client_at(r.id, r.client_id, p_at) = p_client
                          AND r.recorded_at < p_at
                          AND r.effective_from <= (p_at AT TIME ZONE 'UTC')::date
                          AND (r.revoked_on IS NULL OR r.revoked_at >= p_at
                               OR (p_at AT TIME ZONE 'UTC')::date < r.revoked_on)
                          AND (r.expires_on IS NULL OR (p_at AT TIME ZONE 'UTC')::date < r.expires_on)
                          AND (r.scope_statewide OR p_coc = ANY (r.scope_cocs))))))
          FROM ce_list_log l
         WHERE l.client_id = p_client AND l.coc_code = p_coc AND l.at < p_at
         ORDER BY l.at DESC, l.id DESC LIMIT 1), false)
$$;
