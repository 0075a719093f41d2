DROP FUNCTION record_facts(uuid);
DROP FUNCTION client_has_active_ce(uuid);
