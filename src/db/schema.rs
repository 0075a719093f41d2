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
    }
}

diesel::joinable!(agencies -> cocs (coc_code));
diesel::joinable!(projects -> agencies (agency_id));

diesel::allow_tables_to_appear_in_same_query!(cocs, agencies, projects, idempotency_keys,);
