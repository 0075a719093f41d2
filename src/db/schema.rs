// @generated-style: kept in step with migrations/ (diesel print-schema layout).

diesel::table! {
    cocs (code) {
        code -> Text,
        name -> Text,
        anonymous_name_format -> Text,
        anonymous_dob_rule -> Text,
        anonymous_ssn_quality -> Int2,
        roi_grant_mode -> Text,
        roi_default_term_months -> Nullable<Int4>,
        observational_assessment_after_refusals -> Int4,
        locked_visible_to_ce_assessors -> Bool,
        inactivity_days -> Int4,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    agencies (id) {
        id -> Uuid,
        coc_code -> Text,
        name -> Text,
        shares_data -> Bool,
        victim_service_provider -> Bool,
        participates_in_ce -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    projects (id) {
        id -> Uuid,
        agency_id -> Uuid,
        name -> Text,
        project_type -> Int2,
        ce_entry_point -> Bool,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        request_fingerprint -> Text,
        response_status -> Int2,
        response_body -> Jsonb,
        response_location -> Nullable<Text>,
        response_etag -> Nullable<Text>,
        created_at -> Timestamptz,
        client_id -> Nullable<Uuid>,
        access_level -> Nullable<Text>,
        client_ids -> Array<Uuid>,
        deidentified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    clients (id) {
        id -> Uuid,
        short_uid -> Text,
        person_id -> Uuid,
        coc_code -> Text,
        created_by_agency -> Uuid,
        created_by_user -> Text,
        identity_mode -> Text,
        visibility -> Text,
        lifecycle -> Text,
        superseded_by -> Nullable<Uuid>,
        merged_into -> Nullable<Uuid>,
        first_name -> Nullable<Text>,
        middle_name -> Nullable<Text>,
        last_name -> Nullable<Text>,
        name_suffix -> Nullable<Text>,
        alias -> Nullable<Text>,
        name_quality -> Int2,
        ssn -> Nullable<Text>,
        ssn_quality -> Int2,
        dob -> Nullable<Date>,
        dob_quality -> Int2,
        race -> Array<Text>,
        race_none -> Nullable<Int2>,
        additional_race_ethnicity -> Nullable<Text>,
        gender -> Array<Int2>,
        gender_none -> Nullable<Int2>,
        different_identity_text -> Nullable<Text>,
        sex -> Nullable<Int2>,
        veteran_status -> Int2,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    roi_consents (id) {
        id -> Uuid,
        client_id -> Uuid,
        recording_agency_id -> Uuid,
        recorded_by_user -> Text,
        effective_from -> Date,
        expires_on -> Nullable<Date>,
        revoked_on -> Nullable<Date>,
        scope_statewide -> Bool,
        scope_cocs -> Array<Text>,
        method -> Text,
        documentation_note -> Nullable<Text>,
        revoked_by_user -> Nullable<Text>,
        revoked_by_agency_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    client_contributors (client_id, agency_id) {
        client_id -> Uuid,
        agency_id -> Uuid,
        first_contributed_at -> Timestamptz,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor -> Text,
        actor_agency_id -> Nullable<Uuid>,
        client_id -> Nullable<Uuid>,
        action -> Text,
        basis -> Nullable<Text>,
        request_id -> Nullable<Text>,
        access_reason -> Nullable<Text>,
        detail -> Nullable<Jsonb>,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Uuid,
        client_id -> Uuid,
        project_id -> Uuid,
        household_id -> Uuid,
        relationship_to_hoh -> Int2,
        entry_date -> Date,
        exit_date -> Nullable<Date>,
        destination -> Nullable<Int2>,
        destination_subsidy_type -> Nullable<Int2>,
        enrollment_coc -> Nullable<Text>,
        living_situation -> Nullable<Int2>,
        length_of_stay -> Nullable<Int2>,
        los_under_threshold -> Nullable<Int2>,
        previous_street_essh -> Nullable<Int2>,
        date_to_street_essh -> Nullable<Date>,
        times_homeless_past_three_years -> Nullable<Int2>,
        months_homeless_past_three_years -> Nullable<Int2>,
        entry_assessment_required -> Bool,
        entered_by_agency -> Uuid,
        entered_by_user -> Text,
        collected_on -> Date,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    helpdesk_notices (id) {
        id -> Uuid,
        coc_code -> Text,
        client_id -> Nullable<Uuid>,
        kind -> Text,
        message -> Text,
        created_by_agency -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    enrollment_data (id) {
        id -> Uuid,
        kind -> Text,
        enrollment_id -> Uuid,
        client_id -> Uuid,
        occurred_on -> Date,
        fields -> Jsonb,
        text -> Nullable<Text>,
        entered_by_agency -> Uuid,
        entered_by_user -> Text,
        collected_on -> Date,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    contacts (id) {
        id -> Uuid,
        client_id -> Uuid,
        kind -> Text,
        value -> Text,
        entered_by_agency -> Uuid,
        entered_by_user -> Text,
        collected_on -> Date,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    documents (id) {
        id -> Uuid,
        client_id -> Uuid,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> Int4,
        sha256 -> Text,
        content -> Bytea,
        description -> Nullable<Text>,
        entered_by_agency -> Uuid,
        entered_by_user -> Text,
        collected_on -> Date,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    deidentification_requests (id) {
        id -> Uuid,
        coc_code -> Text,
        client_id -> Uuid,
        member_ids -> Array<Uuid>,
        dv_member_ids -> Array<Uuid>,
        duplicate_ids -> Array<Uuid>,
        description -> Nullable<Text>,
        status -> Text,
        rejection_reason -> Nullable<Text>,
        requested_by_agency -> Uuid,
        requested_by_user -> Text,
        decided_by_user -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    import_jobs (id) {
        id -> Uuid,
        agency_id -> Uuid,
        mode -> Text,
        status -> Text,
        submitted_by -> Text,
        version -> Nullable<Text>,
        progress -> Jsonb,
        problems -> Jsonb,
        problem_count -> Int4,
        summary -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    import_sources (agency_id, file, source_id) {
        agency_id -> Uuid,
        file -> Text,
        source_id -> Text,
        target_id -> Uuid,
        row_hash -> Text,
        invalid -> Nullable<Jsonb>,
    }
}

diesel::table! {
    hmis_rows (agency_id, file, source_id) {
        agency_id -> Uuid,
        file -> Text,
        source_id -> Text,
        client_id -> Nullable<Uuid>,
        enrollment_id -> Nullable<Uuid>,
        fields -> Json,
        target_id -> Nullable<Uuid>,
        collected_on -> Nullable<Date>,
        seq -> Int8,
        row_hash -> Text,
        invalid -> Nullable<Jsonb>,
    }
}

diesel::joinable!(agencies -> cocs (coc_code));
diesel::joinable!(projects -> agencies (agency_id));

diesel::joinable!(clients -> cocs (coc_code));
diesel::joinable!(roi_consents -> clients (client_id));
diesel::joinable!(enrollments -> clients (client_id));
diesel::joinable!(enrollments -> projects (project_id));
// Joined in queries; the reference is checked per statement by a trigger (migration 2026-12-04).
diesel::joinable!(enrollment_data -> enrollments (enrollment_id));
diesel::joinable!(client_contributors -> clients (client_id));

diesel::allow_tables_to_appear_in_same_query!(
    cocs,
    agencies,
    projects,
    idempotency_keys,
    clients,
    roi_consents,
    client_contributors,
    audit_events,
    helpdesk_notices,
    enrollments,
    enrollment_data,
    contacts,
    documents,
    deidentification_requests,
    import_jobs,
    import_sources,
    hmis_rows,
);
