CREATE OR REPLACE FUNCTION ce_listed_at(p_client uuid, p_coc text, p_at timestamptz, p_any_visibility boolean)
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
DROP FUNCTION roi_client_at(uuid, uuid, timestamptz);
DROP TRIGGER roi_client_moved ON roi_consents;
DROP FUNCTION roi_client_moved();
DROP TABLE roi_client_moves;
