-- The consent engine's facts about a record, in one call whose plan PostgreSQL caches (a
-- single read of a client is the hottest path). `client_has_active_ce` is the one definition
-- of "an active Coordinated Entry stay", used here and by the consent filter in SQL.

CREATE FUNCTION client_has_active_ce(p_client uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM enrollments e JOIN projects p ON p.id = e.project_id
        WHERE e.client_id = p_client AND p.project_type = 14 AND e.exit_date IS NULL
    )
$$;

CREATE FUNCTION record_facts(p_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT jsonb_build_object(
            'client', to_jsonb(c),
            'locked_visible_to_ce_assessors', k.locked_visible_to_ce_assessors,
            'rois', COALESCE((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.effective_from, r.id)
                              FROM roi_consents r WHERE r.client_id = c.id), '[]'::jsonb),
            'contributors', COALESCE((SELECT jsonb_agg(cc.agency_id ORDER BY cc.first_contributed_at, cc.agency_id)
                                      FROM client_contributors cc WHERE cc.client_id = c.id), '[]'::jsonb),
            'active_ce_enrollment', client_has_active_ce(c.id))
        FROM clients c JOIN cocs k ON k.code = c.coc_code
        WHERE c.id = p_id);
END
$$;
