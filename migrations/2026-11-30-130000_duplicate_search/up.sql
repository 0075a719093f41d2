-- Duplicate search that narrows by indexes before it scores (issue 13), and indexes on the
-- foreign keys that deleting or merging clients checks row by row.

CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

-- Phonetic keys (double metaphone) of a name part, with the other part's initial and the DOB:
-- "same sounding last name, same first initial, DOB in a range" is one index range scan.
-- The names and the id ride along (INCLUDE) so that scoring reads no heap page.
CREATE INDEX clients_last_key_idx ON clients (dmetaphone(last_name), lower(left(first_name, 1)), dob)
    INCLUDE (id, first_name, last_name) WHERE lifecycle <> 'merged';
CREATE INDEX clients_first_key_idx ON clients (dmetaphone(first_name), lower(left(last_name, 1)), dob)
    INCLUDE (id, first_name, last_name) WHERE lifecycle <> 'merged';
CREATE INDEX clients_dob_names_idx ON clients (dob) INCLUDE (id, first_name, last_name)
    WHERE lifecycle <> 'merged';
-- The trigram indexes scanned half the table for a common name; scoring now uses similarity()
-- on the few candidates the keys and the DOB find.
DROP INDEX clients_first_trgm_idx;
DROP INDEX clients_last_trgm_idx;

-- Foreign keys checked when a client is deleted or merged (without them, each deleted row scans).
CREATE INDEX clients_merged_into_idx ON clients (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX clients_superseded_by_idx ON clients (superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX helpdesk_notices_client_idx ON helpdesk_notices (client_id) WHERE client_id IS NOT NULL;
CREATE INDEX enrollments_project_idx ON enrollments (project_id);
CREATE INDEX roi_consents_recording_agency_idx ON roi_consents (recording_agency_id);

-- The score of a candidate: name similarity (pg_trgm, over the parts searched) for 0.75, and the
-- DOB for 0.25 when equal, 0.15 when one of its plausible variants. Inlined by the planner.
CREATE FUNCTION client_search_score(c_first text, c_last text, c_dob date,
                                    p_first text, p_last text, p_dob date, p_variants date[])
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT LEAST(1.0,
        (COALESCE(similarity(lower(c_first), p_first), 0) + COALESCE(similarity(lower(c_last), p_last), 0))
        / ((p_first IS NOT NULL)::int + (p_last IS NOT NULL)::int) * 0.75
        + CASE WHEN c_dob = p_dob THEN 0.25 WHEN c_dob = ANY (p_variants) THEN 0.15 ELSE 0 END)::double precision
$$;

-- The candidates of a name search (without access: the caller applies the consent filter), each
-- found by an index:
--   * by DOB: the DOB and its plausible variants (day and month swapped, a year off by one, and
--     the January 1 approximations of the anonymous DOB rules), with a name similarity of at
--     least 0.3 on a part searched;
--   * by sound: the same double-metaphone key of the last name and the same first initial (or
--     the other way round), with a DOB within a year of the year searched when a DOB is given.
-- Each kind stops at p_cap rows; a last row with a NULL id says that one did (the name is too
-- common to narrow without a DOB). A name without a phonetic key (no Latin letter) is found by
-- DOB only. Names come lower-cased and normalized; plpgsql keeps each
-- statement's plan, so a search is not re-planned.
CREATE FUNCTION client_search_candidates(p_first text, p_last text, p_dob date, p_cap integer)
RETURNS TABLE (id uuid, score double precision, dob_exact boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    kf text := dmetaphone(p_first);
    kl text := dmetaphone(p_last);
    f1 text := left(p_first, 1);
    l1 text := left(p_last, 1);
    y integer := extract(year FROM p_dob);
    lo date;
    hi date;
    variants date[] := '{}';
    n bigint;
    capped boolean := false;
BEGIN
    IF p_first IS NULL AND p_last IS NULL THEN
        RETURN;
    END IF;
    IF p_dob IS NOT NULL THEN
        lo := make_date(y - 1, 1, 1);
        hi := make_date(y + 1, 12, 31);
        variants := ARRAY[(p_dob - interval '1 year')::date, (p_dob + interval '1 year')::date,
                          make_date(y, 1, 1), make_date(y + 1, 1, 1)];
        IF extract(day FROM p_dob) <= 12 THEN
            variants := variants || make_date(y, extract(day FROM p_dob)::int, extract(month FROM p_dob)::int);
        END IF;
        RETURN QUERY
            SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                   c.dob = p_dob
            FROM clients c
            WHERE c.dob = ANY (variants || p_dob) AND c.lifecycle <> 'merged'
              AND GREATEST(similarity(lower(c.first_name), p_first), similarity(lower(c.last_name), p_last)) >= 0.3
            LIMIT p_cap + 1;
        GET DIAGNOSTICS n = ROW_COUNT;
        capped := capped OR n > p_cap;
    END IF;
    IF p_last IS NOT NULL AND kl <> '' THEN
        IF p_dob IS NOT NULL AND p_first IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       c.dob = p_dob
                FROM clients c
                WHERE dmetaphone(c.last_name) = kl AND lower(left(c.first_name, 1)) = f1
                  AND c.dob BETWEEN lo AND hi AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSIF p_dob IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       c.dob = p_dob
                FROM clients c
                WHERE dmetaphone(c.last_name) = kl AND c.dob BETWEEN lo AND hi AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSIF p_first IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       false
                FROM clients c
                WHERE dmetaphone(c.last_name) = kl AND lower(left(c.first_name, 1)) = f1
                  AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSE
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       false
                FROM clients c
                WHERE dmetaphone(c.last_name) = kl AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        capped := capped OR n > p_cap;
    END IF;
    IF p_first IS NOT NULL AND kf <> '' THEN
        IF p_dob IS NOT NULL AND p_last IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       c.dob = p_dob
                FROM clients c
                WHERE dmetaphone(c.first_name) = kf AND lower(left(c.last_name, 1)) = l1
                  AND c.dob BETWEEN lo AND hi AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSIF p_dob IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       c.dob = p_dob
                FROM clients c
                WHERE dmetaphone(c.first_name) = kf AND c.dob BETWEEN lo AND hi AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSIF p_last IS NOT NULL THEN
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       false
                FROM clients c
                WHERE dmetaphone(c.first_name) = kf AND lower(left(c.last_name, 1)) = l1
                  AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        ELSE
            RETURN QUERY
                SELECT c.id, client_search_score(c.first_name, c.last_name, c.dob, p_first, p_last, p_dob, variants),
                       false
                FROM clients c
                WHERE dmetaphone(c.first_name) = kf AND c.lifecycle <> 'merged'
                LIMIT p_cap + 1;
        END IF;
        GET DIAGNOSTICS n = ROW_COUNT;
        capped := capped OR n > p_cap;
    END IF;
    IF capped THEN
        id := NULL;
        score := NULL;
        dob_exact := NULL;
        RETURN NEXT;
    END IF;
END
$$;
