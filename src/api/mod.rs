//! HTTP: the app factory shared by `main` and the tests, the OpenAPI contract, middleware.

pub mod agencies;
pub mod blocking;
pub mod client_data;
pub mod clients;
pub mod cocs;
pub mod consents;
pub mod deidentify;
pub mod edge;
pub mod exports;
pub mod extract;
pub mod guard;
pub mod idempotent;
pub mod imports;
pub mod merge;
pub mod ops;
pub mod pages;
pub mod priority_list;
pub mod reply;
pub mod reports;
pub mod server;
pub mod stays;
pub mod support;

use std::time::Instant;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpMessage, HttpResponse, ResponseError};
use tracing::Instrument;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as OpenApiDoc, Ref, RefOr, Response};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{AppError, FieldError, Problem};
use crate::AppState;
use support::{sanitize_request_id, RequestId};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hearth",
        description = "HMIS client records with a consent engine that decides, for every request, who may see what. \
Errors are application/problem+json (RFC 9457). Authenticate with a bearer JWT (claims sub, agency_id, roles, iss, aud, exp, iat). \
Every response carries X-Request-Id (the caller's when it is opaque: a UUID, a hex trace or span id, or a traceparent; else a new one) and X-Content-Type-Options: nosniff. \
A method a path does not take answers 405 with Allow; a request line and headers over 128 KiB answer 431.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(Problem, FieldError, crate::domain::contract_words::CsvVersionWord)),
    tags(
        (name = "operations", description = "Liveness, readiness, metrics"),
        (name = "tenants", description = "CoCs and their consent policy, agencies, projects"),
        (name = "clients", description = "Client records, decided by the consent engine"),
        (name = "consents", description = "ROI grant, history and revocation"),
        (name = "stays", description = "Project stays, households, and the data attached to a stay"),
        (name = "client data", description = "Contact details and documents (refused for anonymous records)"),
        (name = "deidentification", description = "Spokane's de-identification requests, completed with no residue"),
        (name = "coordinated entry", description = "The priority list and the CoC's aggregate reports"),
        (name = "hmis csv", description = "HUD HMIS CSV interchange: export (consent applied on the way out), and import as a job"),
    )
)]
struct ApiDoc;

/// Everything the router registers, shared by the server, the tests and the contract.
fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    app.configure(ops::configure).service(
        scope::scope("/v1")
            .configure(cocs::configure)
            .configure(agencies::configure)
            .configure(clients::configure)
            .configure(consents::configure)
            .configure(stays::configure)
            .configure(client_data::configure)
            .configure(deidentify::configure)
            .configure(merge::configure)
            .configure(priority_list::configure)
            .configure(reports::configure)
            .configure(exports::configure)
            .configure(imports::configure),
    )
}

/// The OpenAPI document the service serves at `/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    let (_, api) =
        register(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    finalize(api)
}

/// Adds the bearer scheme, and the problem schema to every operation's error responses.
fn finalize(mut api: OpenApiDoc) -> OpenApiDoc {
    api.info.version = env!("CARGO_PKG_VERSION").to_string();
    let components = api.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.bearer_format = Some("JWT".into());
    components
        .security_schemes
        .insert("bearer".into(), RefOr::T(SecurityScheme::Http(bearer)));
    common_header_components(components);
    api.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    let problem = || {
        RefOr::T(Content::new(Some(RefOr::Ref(Ref::from_schema_name(
            "Problem",
        )))))
    };
    for item in api.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let public = op
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            let mut defaults = vec![
                ("500", "Unexpected error (a bug)"),
                ("503", "Database unavailable; retry"),
            ];
            if !public {
                defaults.extend([
                    (
                        "400",
                        "Malformed request: a header; a path or query parameter holding a control character or over its length; a body that is not JSON",
                    ),
                    ("401", "Missing or invalid bearer token"),
                    ("403", "The caller's roles do not allow this"),
                ]);
            }
            let params = op.parameters.as_deref().unwrap_or_default();
            let is_in = |place: ParameterIn| {
                params
                    .iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
            };
            let (has_query, has_path) = (is_in(ParameterIn::Query), is_in(ParameterIn::Path));
            let keyed = params.iter().any(|p| {
                matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key")
            });
            if op.request_body.is_some() {
                defaults.extend([
                    ("413", "The request body is too large"),
                    ("415", "The body is not sent as application/json"),
                    (
                        "422",
                        "Invalid fields, or a query parameter this operation does not take (each named in errors)",
                    ),
                ]);
            }
            if has_query {
                defaults.push((
                    "422",
                    "A query parameter of the wrong type, out of its list or out of range, or one this operation does not take (named in errors)",
                ));
            }
            if !public {
                // api::guard::check_query: `dry_run` where there is no dry run, or any other
                // parameter the operation does not list.
                defaults.push((
                    "422",
                    "A query parameter this operation does not take, `dry_run` included (named in errors)",
                ));
            }
            if has_path {
                defaults.push(("404", "No such resource, or the caller may not see it"));
            }
            for (code, desc) in defaults {
                op.responses
                    .responses
                    .entry(code.to_string())
                    .or_insert_with(|| RefOr::T(Response::new(desc)));
            }
            if keyed {
                declare_idempotency(&mut op.responses);
            }
            declare_common_headers(&mut op.responses);
            for (code, resp) in op.responses.responses.iter_mut() {
                // OpenAPI requires a description on every response.
                if let RefOr::T(r) = resp {
                    if r.description.is_empty() {
                        r.description = code
                            .parse::<u16>()
                            .ok()
                            .and_then(|c| StatusCode::from_u16(c).ok())
                            .and_then(|c| c.canonical_reason())
                            .unwrap_or("Response")
                            .to_string();
                    }
                }
                if code.starts_with('4') || code.starts_with('5') {
                    if let RefOr::T(r) = resp {
                        r.content.clear();
                        r.content
                            .insert("application/problem+json".into(), problem());
                    }
                }
            }
        }
    }
    api
}

/// The headers the middleware and the problem documents send whatever the operation:
/// `X-Request-Id` on every answer, `WWW-Authenticate` on a 401, `Retry-After` on a 503. Declared
/// once under `components/headers`, referred to from each response.
const COMMON_HEADERS: [&str; 3] = ["X-Request-Id", "WWW-Authenticate", "Retry-After"];

fn common_header_components(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::{header::HeaderBuilder, ObjectBuilder, Type};
    let request_id = HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .description(Some(
            "The request's id: the caller's X-Request-Id when it is opaque (a UUID; 32 or 16 hex digits, a W3C trace or span id; a W3C traceparent; nothing else, since a free-form token could spell a name or an SSN), else a new UUID; audit rows and logs carry it",
        ))
        .build();
    let www_authenticate = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["Bearer"])),
        ))
        .description(Some("`Bearer`: the scheme this API authenticates with"))
        .build();
    let retry_after = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        ))
        .description(Some(
            "Seconds to wait before trying again (the database is unreachable or every connection is busy; docs/faults.md)",
        ))
        .build();
    for (name, h) in COMMON_HEADERS
        .iter()
        .zip([request_id, www_authenticate, retry_after])
    {
        components.headers.insert((*name).into(), RefOr::T(h));
    }
}

fn declare_common_headers(responses: &mut utoipa::openapi::Responses) {
    let reference = |name: &str| RefOr::Ref(Ref::new(format!("#/components/headers/{name}")));
    for (code, resp) in responses.responses.iter_mut() {
        let RefOr::T(r) = resp else { continue };
        let names: &[&str] = match code.as_str() {
            "401" => &COMMON_HEADERS[..2],
            "503" => &[COMMON_HEADERS[0], COMMON_HEADERS[2]],
            _ => &COMMON_HEADERS[..1],
        };
        for name in names {
            r.headers
                .entry((*name).into())
                .or_insert_with(|| reference(name));
        }
    }
}

/// An operation that takes `Idempotency-Key` (`api::idempotent`): `Idempotent-Replayed` on its
/// successful answers, and the problems only a key gives.
fn declare_idempotency(responses: &mut utoipa::openapi::Responses) {
    use utoipa::openapi::{header::HeaderBuilder, ObjectBuilder, Type};
    let replayed = HeaderBuilder::new()
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["true"])),
        ))
        .description(Some(
            "`true` when this is the stored first answer to an earlier request with the same Idempotency-Key (absent on a first answer)",
        ))
        .build();
    for (code, resp) in responses.responses.iter_mut() {
        if let (true, RefOr::T(r)) = (code.starts_with('2'), resp) {
            r.headers
                .insert("Idempotent-Replayed".into(), RefOr::T(replayed.clone()));
        }
    }
    for (code, desc) in [
        (
            "409",
            "A replay whose first answer is no longer given: the caller's access to the record lessened since (`idempotent-replay-access-changed`), or a record it concerned was de-identified since (`idempotent-replay-record-deidentified`); send a new request with a new Idempotency-Key",
        ),
        (
            "422",
            "The Idempotency-Key was already used for a different request (`idempotency_key_reused`)",
        ),
    ] {
        match responses.responses.get_mut(code) {
            Some(RefOr::T(r)) => {
                let (first, rest) = desc.split_at(1);
                r.description = format!("{}; or {}{rest}", r.description, first.to_lowercase());
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                responses
                    .responses
                    .insert(code.into(), RefOr::T(Response::new(desc)));
            }
        }
    }
}

/// Builds the application: routes, the contract, the API viewer and the middleware.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.max_body_bytes;
    let (app, api) = register(
        App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .app_data(web::Data::new(state.clone()))
            .app_data(web::Data::new(state.auth.clone()))
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(|err, req| {
                // `GET /v1/clients/search` reaches `/v1/clients/{id}`: a path with a route of its
                // own that does not take the method is a 405, not a malformed id.
                let method = if req.method() == Method::HEAD {
                    "GET"
                } else {
                    req.method().as_str()
                };
                match allowed_methods(req.path()) {
                    Some(allow) if !allow.contains(&method) => {
                        actix_web::error::InternalError::from_response(
                            err,
                            method_not_allowed(&allow),
                        )
                        .into()
                    }
                    _ => AppError::BadRequest(
                        "A path parameter is malformed (ids are UUIDs).".into(),
                    )
                    .into(),
                }
            })),
    )
    .split_for_parts();
    let api = finalize(api);
    app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .default_service(web::to(|req: actix_web::HttpRequest| async move {
            // A known path with another method is a 405 naming the methods it takes; a path no
            // route has is a 404.
            match allowed_methods(req.path()) {
                Some(allow) => Ok(method_not_allowed(&allow)),
                None => Err::<HttpResponse, AppError>(AppError::NotFound),
            }
        }))
        .wrap(ErrorHandlers::new().default_handler(problem_for_framework_errors))
        .wrap(state.metrics.http.clone())
        .wrap_fn(|mut req, srv| {
            let rid = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .and_then(sanitize_request_id)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            req.extensions_mut().insert(RequestId(rid.clone()));
            let span = tracing::info_span!("http", request_id = %rid, method = %req.method());
            let started = Instant::now();
            // HEAD is answered as GET without the body.
            let head = req.method() == Method::HEAD;
            if head {
                req.head_mut().method = Method::GET;
                req.extensions_mut()
                    .insert(crate::api::extract::HeadRequest);
            }
            // Path and query parameters are checked once, here: no NUL, no control byte, bounded.
            let call = match edge::check_target(req.path(), req.uri().query()) {
                Ok(()) => {
                    let _e = span.enter();
                    Ok(srv.call(req))
                }
                Err(err) => Err(req.into_response(err.error_response())),
            };
            async move {
                let mut res = match call {
                    Ok(fut) => fut.await?.map_into_left_body(),
                    Err(refused) => refused.map_into_right_body(),
                };
                if head {
                    res = res.map_body(|_, _| EitherBody::right(BoxBody::new(())));
                }
                if let Ok(v) = HeaderValue::from_str(&rid) {
                    res.headers_mut()
                        .insert(HeaderName::from_static("x-request-id"), v);
                }
                res.headers_mut().insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                // The route pattern, never the path: paths carry ids, and logs carry no data.
                let route = res
                    .request()
                    .match_pattern()
                    .unwrap_or_else(|| "UNMATCHED".into());
                tracing::info!(
                    route = %route,
                    status = res.status().as_u16(),
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    "request"
                );
                Ok(res)
            }
            .instrument(span)
        })
}

/// Routes outside the permission table (`guard::ROUTES`): public, all `GET`.
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
];

/// The methods the routes matching `path` take (a `{name}` segment matches any one segment; the
/// most specific routes win, so `/v1/clients/search` is not `/v1/clients/{id}`), `HEAD` with
/// `GET`; `None` when no route matches the path.
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    let segments: Vec<&str> = path.split('/').collect();
    let placeholders = |pattern: &str| -> Option<usize> {
        let parts: Vec<&str> = pattern.split('/').collect();
        if parts.len() != segments.len() {
            return None;
        }
        let mut n = 0;
        for (p, s) in parts.iter().zip(&segments) {
            if p.starts_with('{') && p.ends_with('}') {
                if s.is_empty() {
                    return None;
                }
                n += 1;
            } else if p != s {
                return None;
            }
        }
        Some(n)
    };
    let routes = guard::ROUTES
        .iter()
        .map(|(m, p, _)| (*m, *p))
        .chain(PUBLIC_ROUTES.iter().copied());
    let matches: Vec<(&'static str, usize)> = routes
        .filter_map(|(m, p)| placeholders(p).map(|n| (m, n)))
        .collect();
    let best = matches.iter().map(|(_, n)| *n).min()?;
    let mut methods: Vec<&'static str> = matches
        .iter()
        .filter(|(_, n)| *n == best)
        .map(|(m, _)| *m)
        .collect();
    if methods.contains(&"GET") {
        methods.push("HEAD");
    }
    let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    methods.sort_by_key(|m| order.iter().position(|o| o == m));
    methods.dedup();
    Some(methods)
}

/// 405 with `Allow`, as a problem document.
fn method_not_allowed(allow: &[&str]) -> HttpResponse {
    let allow = allow.join(", ");
    let problem = Problem {
        kind: "urn:hearth:problem:method-not-allowed".into(),
        title: "Method Not Allowed".into(),
        status: 405,
        detail: format!("This resource does not take this method; it takes {allow}."),
        errors: None,
        use_record: None,
    };
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, allow))
        .content_type("application/problem+json")
        .json(problem)
}

/// actix answers some errors itself (405, 413, 404 on an unknown path) in plain text; those
/// become problem documents too.
fn problem_for_framework_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if already || res.status().as_u16() < 400 {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let err = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge("The request body is too large.".into())
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            AppError::UnsupportedMediaType("Send application/json.".into())
        }
        s if s.is_server_error() => AppError::Internal(format!("framework error {s}")),
        _ => AppError::BadRequest(String::new()),
    };
    let mut problem = err.to_problem();
    if let AppError::BadRequest(_) = err {
        problem.status = status.as_u16();
        problem.title = status.canonical_reason().unwrap_or("Error").to_string();
        problem.kind = format!("urn:hearth:problem:http-{}", status.as_u16());
        problem.detail = match status {
            StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this resource.".into(),
            _ => "The request could not be processed.".into(),
        };
    }
    let (req, old) = res.into_parts();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        // A resource actix routes itself (`/docs`, `/openapi.json`): the same 405 as ours.
        if let Some(allow) = allowed_methods(req.path()) {
            return Ok(ErrorHandlerResponse::Response(
                ServiceResponse::new(req, method_not_allowed(&allow)).map_into_right_body(),
            ));
        }
    }
    let mut new = HttpResponse::build(status);
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.append_header((name.clone(), value.clone()));
        }
    }
    let new = new.content_type("application/problem+json").json(problem);
    let _ = err.status_code();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}
