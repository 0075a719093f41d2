//! Which action each operation is, for the permission table of `consent::permissions`.
//!
//! Every authenticated operation has a row here; the `Principal` extractor looks the matched
//! route up and answers 403 before anything else runs when none of the caller's roles permits
//! the action. An operation without a row is refused (fail closed), and a test walks the
//! contract's operation list so that a new endpoint without a row fails it.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::Method;
use actix_web::HttpRequest;

use crate::auth::Principal;
use crate::consent::permissions::{roles_for, roles_permit, Action};
use crate::error::AppError;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::RefOr;

use Action::*;

/// (method, route pattern as the contract spells it, action).
pub const ROUTES: &[(&str, &str, Action)] = &[
    ("GET", "/v1/cocs", ReadTenants),
    ("POST", "/v1/cocs", ManageTenants),
    ("GET", "/v1/cocs/{code}", ReadTenants),
    ("PATCH", "/v1/cocs/{code}/policy", EditCocPolicy),
    ("GET", "/v1/agencies", ReadTenants),
    ("POST", "/v1/agencies", ManageTenants),
    ("GET", "/v1/agencies/{id}", ReadTenants),
    ("GET", "/v1/projects", ReadTenants),
    ("POST", "/v1/projects", ManageTenants),
    ("GET", "/v1/projects/{id}", ReadTenants),
    ("POST", "/v1/clients", WriteRecord),
    ("POST", "/v1/clients/search", SearchClients),
    ("GET", "/v1/clients/{id}", ReadClient),
    ("PATCH", "/v1/clients/{id}", WriteRecord),
    ("GET", "/v1/clients/{id}/access", ReadClient),
    ("GET", "/v1/clients/{id}/audit", ReadAudit),
    ("GET", "/v1/clients/{id}/consents", ReadClient),
    ("POST", "/v1/clients/{id}/consents", ConsentWorkflow),
    ("GET", "/v1/clients/{id}/consents/{consent_id}", ReadClient),
    (
        "POST",
        "/v1/clients/{id}/consents/{consent_id}/revoke",
        ConsentWorkflow,
    ),
    ("PUT", "/v1/clients/{id}/visibility", ConsentWorkflow),
    (
        "POST",
        "/v1/clients/{id}/designate-sharing",
        ConsentWorkflow,
    ),
    ("GET", "/v1/clients/{id}/contacts", ReadClient),
    ("POST", "/v1/clients/{id}/contacts", WriteRecord),
    ("GET", "/v1/clients/{id}/contacts/{contact_id}", ReadClient),
    (
        "DELETE",
        "/v1/clients/{id}/contacts/{contact_id}",
        DeleteData,
    ),
    ("GET", "/v1/clients/{id}/documents", ReadClient),
    ("POST", "/v1/clients/{id}/documents", WriteRecord),
    (
        "DELETE",
        "/v1/clients/{id}/documents/{document_id}",
        DeleteData,
    ),
    (
        "GET",
        "/v1/clients/{id}/documents/{document_id}/content",
        ReadClient,
    ),
    ("GET", "/v1/clients/{id}/enrollments", ReadClient),
    ("POST", "/v1/clients/{id}/enrollments", WriteData),
    ("GET", "/v1/enrollments/{id}", ReadClient),
    ("POST", "/v1/enrollments/{id}/exit", WriteData),
    (
        "POST",
        "/v1/enrollments/{id}/remove-from-household",
        WriteData,
    ),
    ("GET", "/v1/enrollments/{id}/services", ReadClient),
    ("POST", "/v1/enrollments/{id}/services", WriteData),
    ("GET", "/v1/enrollments/{id}/assessments", ReadClient),
    ("POST", "/v1/enrollments/{id}/assessments", WriteData),
    ("GET", "/v1/enrollments/{id}/ce-events", ReadClient),
    ("POST", "/v1/enrollments/{id}/ce-events", WriteData),
    (
        "GET",
        "/v1/enrollments/{id}/current-living-situations",
        ReadClient,
    ),
    (
        "POST",
        "/v1/enrollments/{id}/current-living-situations",
        WriteData,
    ),
    ("GET", "/v1/enrollments/{id}/notes", ReadClient),
    ("GET", "/v1/enrollments/{id}/hmis-records", ReadClient),
    ("GET", "/v1/clients/{id}/hmis-records", ReadClient),
    ("POST", "/v1/enrollments/{id}/notes", WriteData),
    ("GET", "/v1/enrollments/{id}/refusals", ReadClient),
    ("POST", "/v1/enrollments/{id}/refusals", WriteData),
    ("GET", "/v1/cocs/{code}/priority-list", ReadPriorityList),
    (
        "GET",
        "/v1/cocs/{code}/reports/active-homeless",
        ReadReports,
    ),
    ("GET", "/v1/helpdesk-notices", ReadHelpdeskNotices),
    ("GET", "/v1/exports/hmis-csv", ExportData),
    // The service narrows further: an agency administrator imports only into its own agency.
    ("POST", "/v1/imports/hmis-csv", ImportData),
    ("GET", "/v1/imports/{id}", ImportData),
    ("POST", "/v1/clients/{id}/merge", MergeRecords),
    // An agency files and lists its own requests; the service scopes the list (agency, CoC, all).
    ("POST", "/v1/deidentification-requests", ConsentWorkflow),
    (
        "GET",
        "/v1/deidentification-requests",
        ListDeidentificationRequests,
    ),
    (
        "GET",
        "/v1/deidentification-requests/{id}",
        ListDeidentificationRequests,
    ),
    (
        "POST",
        "/v1/deidentification-requests/{id}/complete",
        AdministerDeidentification,
    ),
    (
        "POST",
        "/v1/deidentification-requests/{id}/reject",
        AdministerDeidentification,
    ),
];

/// The action of an operation, by its method and route pattern. HEAD is GET without a body.
pub fn action_for(method: &str, pattern: &str) -> Option<Action> {
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == pattern)
        .map(|(_, _, a)| *a)
}

/// 403 unless one of the caller's roles permits the matched operation's action.
pub fn authorize(req: &HttpRequest, principal: Principal) -> Result<Principal, AppError> {
    let pattern = req.match_pattern().unwrap_or_default();
    let method = req.method();
    let action = if method == Method::HEAD {
        action_for("GET", &pattern)
    } else {
        action_for(method.as_str(), &pattern)
    };
    let Some(action) = action else {
        return Err(AppError::Forbidden(
            "This token's roles do not allow this operation: it has no entry in the permission table."
                .into(),
        ));
    };
    if roles_permit(&principal.roles, action) {
        check_query(method.as_str(), &pattern, req.query_string())?;
        return Ok(principal);
    }
    let detail = if principal.roles.is_empty() {
        format!(
            "This token's roles do not allow {}: it holds no Hearth role (one of {}).",
            action.describe(),
            role_list(action)
        )
    } else {
        format!(
            "This token's roles do not allow {}: it needs one of the roles {}.",
            action.describe(),
            role_list(action)
        )
    };
    Err(AppError::Forbidden(detail))
}

/// The query parameters each operation takes, by (method, route pattern), as the contract lists
/// them: the one place that knows which operations have a dry run.
fn query_params() -> &'static HashMap<(String, String), Vec<String>> {
    static PARAMS: OnceLock<HashMap<(String, String), Vec<String>>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let mut out = HashMap::new();
        for (path, item) in super::openapi().paths.paths {
            let ops = [
                ("GET", item.get),
                ("POST", item.post),
                ("PUT", item.put),
                ("PATCH", item.patch),
                ("DELETE", item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let names = op
                    .parameters
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| match p {
                        RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name),
                        _ => None,
                    })
                    .collect();
                out.insert((method.to_string(), path.clone()), names);
            }
        }
        out
    })
}

/// 422 naming the first query parameter the operation does not take (README Conventions): a
/// `dry_run` on an operation without a dry run is refused before anything is written, rather
/// than ignored while the write is committed; likewise any other parameter the contract does not
/// list for the operation (a body's unknown field is refused the same way). A parameter it takes
/// is parsed by the handler's [`super::extract::ApiQuery`], so a malformed value is a 422 too.
pub fn check_query(method: &str, pattern: &str, query: &str) -> Result<(), AppError> {
    if query.is_empty() {
        return Ok(());
    }
    let method = if method.eq_ignore_ascii_case("HEAD") {
        "GET"
    } else {
        method
    };
    let key = (method.to_ascii_uppercase(), pattern.to_string());
    let taken = query_params().get(&key).map(Vec::as_slice).unwrap_or(&[]);
    for (name, _) in form_urlencoded::parse(query.as_bytes()) {
        if taken.iter().any(|t| *t == name) {
            continue;
        }
        let field = crate::api::edge::sanitize_key(&name);
        let message = if name == "dry_run" {
            "This operation has no dry run: it does not take dry_run, and nothing was written."
        } else {
            "This operation does not take this query parameter; nothing was done."
        };
        return Err(AppError::validation(&field, "unknown_parameter", message));
    }
    Ok(())
}

fn role_list(action: Action) -> String {
    roles_for(action)
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
