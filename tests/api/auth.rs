//! Bearer JWT: every way a token can be wrong answers 401; a role that may not act answers 403.

use base64::Engine;
use hearth::auth::{AuthConfig, Claims};
use hearth::consent::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::harness::*;

fn claims(offset_exp: i64) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: "user-1".into(),
        agency_id: None,
        roles: vec!["system_admin".into()],
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        exp: now + offset_exp,
        iat: Some(now),
        nbf: None,
    }
}

fn sign(c: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        c,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn b64(v: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[actix_web::test]
async fn bad_tokens_answer_401_problems() {
    let app = spawn().await;
    let good = sign(&claims(3600), SECRET);
    assert_eq!(app.get("/v1/cocs", &good).await.status, 200);

    let mut wrong_iss = claims(3600);
    wrong_iss.iss = "someone-else".into();
    let mut wrong_aud = claims(3600);
    wrong_aud.aud = "other-api".into();
    let mut future_nbf = claims(3600);
    future_nbf.nbf = Some(chrono::Utc::now().timestamp() + 3600);
    let mut roles_without_agency = claims(3600);
    roles_without_agency.roles = vec!["case_worker".into()];
    let parts: Vec<&str> = good.split('.').collect();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(3600),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(&json!({"sub": "x", "roles": ["system_admin"], "exp": 9999999999i64})),
        parts[2]
    );

    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("not-a-jwt".into())),
        ("expired", Some(sign(&claims(-3600), SECRET))),
        ("not yet valid", Some(sign(&future_nbf, SECRET))),
        (
            "wrong signature",
            Some(sign(&claims(3600), "another-secret")),
        ),
        ("alg none", Some(alg_none)),
        ("other algorithm", Some(hs512)),
        ("tampered payload", Some(tampered)),
        ("wrong issuer", Some(sign(&wrong_iss, SECRET))),
        ("wrong audience", Some(sign(&wrong_aud, SECRET))),
        (
            "roles without agency",
            Some(sign(&roles_without_agency, SECRET)),
        ),
    ];
    for (name, token) in cases {
        let r = app
            .send(Call {
                method: "GET",
                path: "/v1/cocs",
                token: token.as_deref(),
                body: None,
                headers: vec![],
            })
            .await;
        assert_eq!(r.status, 401, "{name}: {}", r.body);
        r.problem(401);
        assert_eq!(
            r.header("www-authenticate").as_deref(),
            Some("Bearer"),
            "{name}"
        );
    }
    // A scheme other than Bearer.
    let r = app
        .send(Call {
            method: "GET",
            path: "/v1/cocs",
            token: None,
            body: None,
            headers: vec![("Authorization", format!("Basic {}", "dXNlcjpwYXNz"))],
        })
        .await;
    r.problem(401);
}

#[actix_web::test]
async fn a_role_that_may_not_act_gets_403() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let worker = app.token("w1", &[Role::CaseWorker], Some(agency));
    let r = app
        .post(
            "/v1/cocs",
            &worker,
            json!({"code": random_coc_code(), "name": "x"}),
        )
        .await;
    r.problem(403);
    let r = app
        .post(
            "/v1/agencies",
            &worker,
            json!({"coc_code": coc, "name": "x"}),
        )
        .await;
    r.problem(403);
}

#[actix_web::test]
async fn eddsa_tokens_from_an_identity_provider_verify_with_the_public_key() {
    let public = include_str!("keys/ed25519-public.pem");
    let private = include_str!("keys/ed25519-private.pem");
    let auth = AuthConfig::new(None, Some(public), ISSUER, AUDIENCE).unwrap();
    let key = EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims(600), &key).unwrap();
    let p = auth.verify(&token).expect("valid EdDSA token");
    assert!(p.is_system_admin());
    // With only a public key configured, HS256 tokens are refused.
    assert!(auth.verify(&sign(&claims(600), SECRET)).is_err());
    // And a token signed by another Ed25519 key is refused.
    let mut bad = token.clone();
    bad.pop();
    bad.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert!(auth.verify(&bad).is_err());
}

/// Signs any JSON payload with the test secret, as an identity provider would sign its own claims.
fn sign_json(payload: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        payload,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[actix_web::test]
async fn identity_provider_tokens_with_an_audience_array_and_fractional_times_verify() {
    let app = spawn().await;
    let now = chrono::Utc::now().timestamp() as f64;
    let with = |extra: serde_json::Value| {
        let mut c = json!({"sub": "idp-user-1", "roles": ["system_admin"], "iss": ISSUER});
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_json(&c)
    };
    let accepted = [
        (
            "aud array with Hearth among others",
            with(json!({"aud": ["other-api", AUDIENCE], "exp": now + 3600.25})),
        ),
        (
            "aud array of one",
            with(json!({"aud": [AUDIENCE], "exp": now + 3600.0})),
        ),
        (
            "fractional exp, iat and nbf",
            with(
                json!({"aud": AUDIENCE, "exp": now + 600.5, "iat": now - 0.25, "nbf": now - 1.75}),
            ),
        ),
        ("no iat", with(json!({"aud": AUDIENCE, "exp": now + 600.0}))),
    ];
    for (name, token) in accepted {
        let r = app.get("/v1/cocs", &token).await;
        assert_eq!(r.status, 200, "{name}: {}", r.body);
    }
    let refused = [
        (
            "aud array without Hearth",
            with(json!({"aud": ["other-api", "third-api"], "exp": now + 600.0})),
            "audience",
        ),
        (
            "fractional exp in the past",
            with(json!({"aud": [AUDIENCE], "exp": now - 3600.5})),
            "expired",
        ),
        (
            "fractional nbf in the future",
            with(json!({"aud": AUDIENCE, "exp": now + 7200.0, "nbf": now + 3600.5})),
            "not valid yet",
        ),
        (
            "aud of the wrong type",
            with(json!({"aud": 7, "exp": now + 600.0})),
            "",
        ),
    ];
    for (name, token, says) in refused {
        let r = app.get("/v1/cocs", &token).await;
        let p = r.problem(401);
        assert!(
            p["detail"].as_str().unwrap().contains(says),
            "{name}: {}",
            r.body
        );
    }
}

#[actix_web::test]
async fn a_token_with_no_agency_and_no_role_says_so() {
    let app = spawn().await;
    let now = chrono::Utc::now().timestamp();
    let base = json!({"sub": "idp-user-2", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600});
    let mut no_roles = base.clone();
    no_roles["roles"] = json!([]);
    let mut foreign_roles = base.clone();
    foreign_roles["roles"] = json!(["billing_viewer", "wiki_editor"]);
    for (name, claims) in [
        ("empty roles", no_roles),
        ("roles of other systems", foreign_roles),
        ("no roles claim", base),
    ] {
        let token = sign_json(&claims);
        for path in [
            "/v1/cocs",
            "/v1/clients/00000000-0000-4000-8000-000000000001",
        ] {
            let r = app.get(path, &token).await;
            let detail = r.problem(403)["detail"].as_str().unwrap().to_string();
            assert!(
                detail.contains("no Hearth role and no agency_id"),
                "{name} {path}: {detail}"
            );
        }
    }
}

/// A validly signed token whose sub (or a role) holds a NUL or another control character, or a
/// sub past 255 characters, is malformed: 401 on every operation, audited ones included (the sub
/// is stored in audit rows, and PostgreSQL cannot store a NUL).
#[actix_web::test]
async fn string_claims_with_control_characters_or_an_overlong_sub_are_malformed() {
    let app = spawn().await;
    let coc = app.coc(json!({})).await;
    let agency = app.agency(&coc, true).await;
    let w = app.token("w", &[Role::CaseWorker], Some(agency));
    let client = app
        .post(
            "/v1/clients",
            &w,
            json!({"identity_mode": "identified", "first_name": "Ana", "last_name": "Rivera"}),
        )
        .await
        .ok(201)["client"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now = chrono::Utc::now().timestamp();
    let token = |sub: &str, roles: serde_json::Value| {
        sign_json(&json!({
            "sub": sub, "roles": roles, "agency_id": agency,
            "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
        }))
    };
    let long = "u".repeat(256);
    let bad = [
        ("NUL in sub", token("user\u{0}1", json!(["case_worker"]))),
        ("newline in sub", token("user\n1", json!(["case_worker"]))),
        (
            "escape in sub",
            token("user\u{1b}[31m", json!(["case_worker"])),
        ),
        ("256-character sub", token(&long, json!(["case_worker"]))),
        (
            "NUL in a role",
            token("user-1", json!(["case_worker", "x\u{0}"])),
        ),
        (
            "NUL in agency_id",
            sign_json(&json!({
                "sub": "user-1", "roles": ["case_worker"], "agency_id": format!("{agency}\u{0}"),
                "iss": ISSUER, "aud": AUDIENCE, "exp": now + 600,
            })),
        ),
    ];
    for (name, t) in &bad {
        for (method, path, body) in [
            ("GET", format!("/v1/clients/{client}"), None),
            (
                "POST",
                "/v1/clients".to_string(),
                Some(json!({"identity_mode": "anonymous", "birth_year": 1980})),
            ),
            (
                "POST",
                format!("/v1/clients/{client}/contacts"),
                Some(json!({"kind": "phone", "value": "555 0100 123"})),
            ),
        ] {
            let r = app
                .send(Call {
                    method,
                    path: &path,
                    token: Some(t),
                    body,
                    headers: vec![],
                })
                .await;
            let p = r.problem(401);
            assert!(
                p["detail"].as_str().unwrap().contains("malformed"),
                "{name} {method} {path}: {}",
                r.body
            );
        }
    }
    // At the bound, and with text a sub may hold (an e-mail, non-ASCII letters), it verifies.
    for sub in [
        "u".repeat(255),
        "ana.rivera@example.org".into(),
        "Zoë-Ñ".into(),
    ] {
        let r = app
            .get(
                &format!("/v1/clients/{client}"),
                &token(&sub, json!(["case_worker"])),
            )
            .await;
        assert_eq!(r.status, 200, "{sub}: {}", r.body);
    }
}

/// No clock leeway: a token expired seconds ago is refused, and so is one issued in the future;
/// two Authorization headers are a malformed request; an access reason holding a tab is refused
/// naming the header.
#[actix_web::test]
async fn no_leeway_no_future_iat_one_authorization_and_a_plain_reason() {
    let app = spawn().await;
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims(0);
    expired.exp = now - 10;
    let p = app.get("/v1/cocs", &sign(&expired, SECRET)).await;
    assert!(p.problem(401)["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));
    let mut future = claims(3600);
    future.iat = Some(now + 120);
    let p = app.get("/v1/cocs", &sign(&future, SECRET)).await;
    assert!(p.problem(401)["detail"]
        .as_str()
        .unwrap()
        .contains("issued in the future"));
    // Just issued, or with an iat a second ago: fine.
    let mut fresh = claims(3600);
    fresh.iat = Some(now - 1);
    assert_eq!(app.get("/v1/cocs", &sign(&fresh, SECRET)).await.status, 200);

    let other = app.token("w", &[Role::SystemAdmin], None);
    let req = actix_web::test::TestRequest::get()
        .uri("/v1/cocs")
        .append_header(("Authorization", format!("Bearer {}", app.admin)))
        .append_header(("Authorization", format!("Bearer {other}")))
        .to_request();
    let r = app.raw(req).await;
    assert!(r.problem(400)["detail"]
        .as_str()
        .unwrap()
        .contains("more than one Authorization"));

    let r = app
        .send(Call {
            method: "GET",
            path: "/v1/clients/00000000-0000-4000-8000-000000000001",
            token: Some(&app.admin),
            body: None,
            headers: vec![("X-Access-Reason", "ticket\tHD-4411".into())],
        })
        .await;
    assert!(r.problem(400)["detail"]
        .as_str()
        .unwrap()
        .contains("X-Access-Reason"));
}
