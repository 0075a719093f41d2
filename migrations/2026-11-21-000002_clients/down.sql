DROP TABLE helpdesk_notices;
DROP TABLE enrollments;
DROP TRIGGER audit_events_no_truncate ON audit_events;
DROP TRIGGER audit_events_no_update_delete ON audit_events;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE client_contributors;
DROP TABLE roi_consents;
DROP TABLE clients;
