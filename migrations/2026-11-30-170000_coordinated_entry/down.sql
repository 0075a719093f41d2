DROP FUNCTION ce_listed_at(uuid, text, timestamptz, boolean);
DROP TRIGGER ce_roi_changed ON roi_consents;
DROP TRIGGER ce_client_changed ON clients;
DROP FUNCTION ce_client_changed();
DROP TRIGGER ce_data_changed ON enrollment_data;
DROP FUNCTION ce_data_changed();
DROP TRIGGER ce_enrollments_changed ON enrollments;
DROP FUNCTION ce_enrollments_changed();
DROP FUNCTION ce_project_coc(uuid);
DROP FUNCTION ce_refresh(uuid, text);
DROP TABLE ce_list_log;
DROP TABLE ce_priority;
DROP TRIGGER roi_consents_revoked_at ON roi_consents;
DROP FUNCTION roi_consents_revoked_at();
DROP INDEX roi_consents_from_idx, roi_consents_expires_idx, roi_consents_revoked_on_idx,
    roi_consents_created_idx, roi_consents_revoked_at_idx;
ALTER TABLE roi_consents DROP COLUMN revoked_at;
DELETE FROM enrollment_data WHERE kind = 'refusal';
ALTER TABLE enrollment_data DROP CONSTRAINT enrollment_data_kind_check;
ALTER TABLE enrollment_data ADD CONSTRAINT enrollment_data_kind_check
    CHECK (kind IN ('service', 'assessment', 'ce_event', 'current_living_situation', 'case_note'));
ALTER TABLE projects DROP CONSTRAINT projects_ce_entry_point_is_ce;
ALTER TABLE projects DROP COLUMN ce_entry_point;
ALTER TABLE agencies DROP COLUMN participates_in_ce;
ALTER TABLE cocs DROP COLUMN inactivity_days;
