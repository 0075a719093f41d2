-- A priority list entry shows its household's size (the open stays of the CE stay's household
-- the caller may see). A change to another member (a stay entered, exited or moved; its record's
-- visibility, identity or ROIs) changes that size without touching the listed client's own rows,
-- so it was never logged, and an incremental pull never sent the entry again (an outside
-- tester's finding). Now such a change refreshes, and so logs, every listed client of the
-- household too.
CREATE INDEX ce_priority_household_idx ON ce_priority (household_id);

CREATE OR REPLACE FUNCTION ce_refresh_household(p_household uuid, p_except uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF p_household IS NULL THEN
        RETURN;
    END IF;
    FOR r IN SELECT coc_code, client_id FROM ce_priority
              WHERE household_id = p_household AND client_id <> p_except
              ORDER BY coc_code, client_id LOOP
        PERFORM ce_refresh(r.client_id, r.coc_code);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION ce_enrollments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        k := ce_project_coc(OLD.project_id);
        IF k IS NOT NULL THEN
            PERFORM ce_refresh(OLD.client_id, k);
        END IF;
        PERFORM ce_refresh_household(OLD.household_id, OLD.client_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        k := ce_project_coc(NEW.project_id);
        IF k IS NOT NULL THEN
            PERFORM ce_refresh(NEW.client_id, k);
        END IF;
        IF TG_OP = 'INSERT' OR NEW.household_id IS DISTINCT FROM OLD.household_id THEN
            PERFORM ce_refresh_household(NEW.household_id, NEW.client_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION ce_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k text;
    h uuid;
    v_id uuid;
BEGIN
    IF TG_TABLE_NAME = 'clients' THEN v_id := NEW.id; ELSE v_id := NEW.client_id; END IF;
    FOR k IN SELECT coc_code FROM ce_priority WHERE client_id = v_id LOOP
        PERFORM ce_refresh(v_id, k);
    END LOOP;
    -- The households it is an open member of: their listed clients count it or not.
    FOR h IN SELECT DISTINCT household_id FROM enrollments
              WHERE client_id = v_id AND exit_date IS NULL LOOP
        PERFORM ce_refresh_household(h, v_id);
    END LOOP;
    RETURN NULL;
END
$$;
