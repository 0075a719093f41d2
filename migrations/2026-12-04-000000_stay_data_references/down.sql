DROP TRIGGER enrollment_data_agencies_deleted ON agencies;
DROP TRIGGER enrollment_data_records_deleted ON clients;
DROP TRIGGER enrollment_data_stays_deleted ON enrollments;
DROP FUNCTION enrollment_data_referenced();
DROP TRIGGER enrollment_data_references_updated ON enrollment_data;
DROP TRIGGER enrollment_data_references_inserted ON enrollment_data;
DROP FUNCTION enrollment_data_references_check();
ALTER TABLE enrollment_data
    ADD CONSTRAINT enrollment_data_client_id_fkey FOREIGN KEY (client_id) REFERENCES clients(id),
    ADD CONSTRAINT enrollment_data_enrollment_id_fkey FOREIGN KEY (enrollment_id) REFERENCES enrollments(id),
    ADD CONSTRAINT enrollment_data_entered_by_agency_fkey FOREIGN KEY (entered_by_agency) REFERENCES agencies(id);
