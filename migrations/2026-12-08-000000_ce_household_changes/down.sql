CREATE OR REPLACE FUNCTION ce_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION ce_enrollments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP FUNCTION ce_refresh_household(uuid, uuid);
DROP INDEX ce_priority_household_idx;
