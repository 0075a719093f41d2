//! Bearer JWT authentication: claims, key handling, and the `Principal` extractor.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::consent::Role;
use crate::error::AppError;

/// The claims Hearth reads (api.md). `roles` holds the role words; unknown words are ignored so
/// that an identity provider can carry roles meant for other systems. As RFC 7519 allows, `aud`
/// may be one string or an array, and the times (`exp`, `iat`, `nbf`) may have a fraction; a
/// fraction is dropped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<Uuid>,
    #[serde(default)]
    pub roles: Vec<String>,
    pub iss: String,
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    #[serde(
        default,
        deserialize_with = "optional_numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub iat: Option<i64>,
    #[serde(
        default,
        deserialize_with = "optional_numeric_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub nbf: Option<i64>,
}

/// The `aud` claim: one audience or several (RFC 7519, section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(s: &str) -> Self {
        Audience::One(s.to_string())
    }
}

/// A NumericDate (RFC 7519, section 2): seconds since the epoch, perhaps with a fraction.
fn numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let secs = f64::deserialize(d)?;
    // Beyond ±2^53 an f64 no longer counts whole seconds; no real token goes there.
    if secs.is_finite() && secs.abs() < 9_007_199_254_740_992.0 {
        Ok(secs.floor() as i64)
    } else {
        Err(serde::de::Error::custom("a NumericDate out of range"))
    }
}

fn optional_numeric_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Date(#[serde(deserialize_with = "numeric_date")] i64);
    Ok(Option::<Date>::deserialize(d)?.map(|Date(s)| s))
}

/// Who is calling, as the token says. The agency's CoC and sharing flag are looked up by the
/// services, which build the consent engine's `Viewer` from this.
#[derive(Debug, Clone)]
pub struct Principal {
    pub sub: String,
    pub agency_id: Option<Uuid>,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_system_admin(&self) -> bool {
        self.has_role(Role::SystemAdmin)
    }

    /// 403 unless the caller holds one of `roles`.
    pub fn require_any(&self, roles: &[Role], action: &str) -> Result<(), AppError> {
        if roles.iter().any(|r| self.has_role(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::Forbidden(format!(
                "{action} needs one of the roles: {}.",
                names.join(", ")
            )))
        }
    }
}

pub struct AuthConfig {
    hmac: Option<(EncodingKey, DecodingKey)>,
    public: Option<(DecodingKey, Vec<Algorithm>)>,
    issuer: String,
    audience: String,
}

impl AuthConfig {
    pub fn new(
        secret: Option<&str>,
        public_key_pem: Option<&str>,
        issuer: &str,
        audience: &str,
    ) -> Result<AuthConfig, String> {
        let hmac = secret.map(|s| {
            (
                EncodingKey::from_secret(s.as_bytes()),
                DecodingKey::from_secret(s.as_bytes()),
            )
        });
        let public = match public_key_pem {
            None => None,
            Some(pem) => {
                let pem = pem.as_bytes();
                if let Ok(k) = DecodingKey::from_ed_pem(pem) {
                    Some((k, vec![Algorithm::EdDSA]))
                } else if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
                    Some((k, vec![Algorithm::RS256]))
                } else {
                    return Err("HEARTH_JWT_PUBLIC_KEY is neither an Ed25519 nor an RSA public key in PEM form".into());
                }
            }
        };
        if hmac.is_none() && public.is_none() {
            return Err("no JWT key: set HEARTH_JWT_SECRET or HEARTH_JWT_PUBLIC_KEY".into());
        }
        Ok(AuthConfig {
            hmac,
            public,
            issuer: issuer.into(),
            audience: audience.into(),
        })
    }

    /// Signs a token with the HS256 secret (development, demos, tests).
    pub fn mint(
        &self,
        sub: &str,
        roles: &[Role],
        agency_id: Option<Uuid>,
        ttl: chrono::Duration,
    ) -> Result<String, String> {
        let (enc, _) = self
            .hmac
            .as_ref()
            .ok_or("minting needs HEARTH_JWT_SECRET")?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: sub.into(),
            agency_id,
            roles: roles.iter().map(|r| r.as_str().to_string()).collect(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            iat: Some(now),
            exp: now + ttl.num_seconds(),
            nbf: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, enc)
            .map_err(|e| e.to_string())
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AppError> {
        let unauthorized = |m: &str| AppError::Unauthorized(m.to_string());
        // `alg: none` and unknown algorithms fail here: jsonwebtoken has no such variant.
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            unauthorized(
                "The bearer token is malformed or uses an algorithm Hearth does not accept.",
            )
        })?;
        let (key, algs) = match (header.alg, &self.hmac, &self.public) {
            (Algorithm::HS256, Some((_, dec)), _) => (dec, vec![Algorithm::HS256]),
            (alg, _, Some((dec, algs))) if algs.contains(&alg) => (dec, algs.clone()),
            _ => {
                return Err(unauthorized(
                    "The bearer token uses an algorithm Hearth does not accept.",
                ))
            }
        };
        let mut validation = Validation::new(algs[0]);
        validation.algorithms = algs;
        // No leeway: a token is refused from the second its `exp` passes (api.md: expired is
        // 401), and one not valid yet (`nbf`) or issued in the future (`iat`) until that second.
        validation.leeway = TOKEN_LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            unauthorized(match e.kind() {
                K::ExpiredSignature => "The bearer token has expired.",
                K::ImmatureSignature => "The bearer token is not valid yet.",
                K::InvalidIssuer => {
                    "The bearer token was issued by an issuer Hearth does not trust."
                }
                K::InvalidAudience => "The bearer token is not meant for this service (audience).",
                K::InvalidSignature => "The bearer token's signature does not verify.",
                K::MissingRequiredClaim(_) => {
                    "The bearer token lacks a required claim (sub, iss, aud, exp)."
                }
                _ => "The bearer token is malformed.",
            })
        })?;
        let claims = data.claims;
        // jsonwebtoken does not look at `iat`: a token issued in the future is refused, like one
        // not valid yet.
        if claims
            .iat
            .is_some_and(|iat| iat > chrono::Utc::now().timestamp() + TOKEN_LEEWAY_SECS as i64)
        {
            return Err(unauthorized(
                "The bearer token was issued in the future (iat); check the issuer's clock.",
            ));
        }
        if claims.sub.trim().is_empty() {
            return Err(unauthorized("The bearer token's sub claim is empty."));
        }
        // The sub is stored (audit rows, who entered a datum) and logged: a NUL, which PostgreSQL
        // cannot store, or any other control character makes the token malformed, as does a sub
        // longer than any identity provider issues.
        if !is_plain_claim(&claims.sub) {
            return Err(unauthorized(
                "The bearer token is malformed: its sub claim must be 1 to 255 characters with no control characters.",
            ));
        }
        if !claims
            .roles
            .iter()
            .all(|r| r.is_empty() || is_plain_claim(r))
        {
            return Err(unauthorized(
                "The bearer token is malformed: each of its roles must be at most 255 characters with no control characters.",
            ));
        }
        let roles: Vec<Role> = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
        // Authentic, but it names neither an agency nor a role Hearth knows: typically a token the
        // identity provider issued for another system. Say so rather than fail later on a lookup.
        if claims.agency_id.is_none() && roles.is_empty() {
            return Err(AppError::Forbidden(
                "The bearer token carries no Hearth role and no agency_id claim, so it grants nothing here.".into(),
            ));
        }
        if claims.agency_id.is_none() && roles.iter().any(|r| *r != Role::SystemAdmin) {
            return Err(unauthorized(
                "The bearer token's roles need an agency_id claim.",
            ));
        }
        Ok(Principal {
            sub: claims.sub,
            agency_id: claims.agency_id,
            roles,
        })
    }
}

/// The clock skew allowed on `exp`, `nbf` and `iat`, in seconds: none.
pub const TOKEN_LEEWAY_SECS: u64 = 0;

/// The longest `sub` (and role word) a token may carry, in characters.
pub const MAX_CLAIM_CHARS: usize = 255;

/// A string claim Hearth stores or logs: not empty, bounded, no control character (NUL included).
fn is_plain_claim(s: &str) -> bool {
    !s.is_empty() && s.chars().count() <= MAX_CLAIM_CHARS && !s.chars().any(char::is_control)
}

impl FromRequest for Principal {
    type Error = AppError;
    type Future = Ready<Result<Principal, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Authenticated, then checked against the permission table before anything else runs.
        ready(authenticate(req).and_then(|p| crate::api::guard::authorize(req, p)))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Principal, AppError> {
    let auth = req
        .app_data::<web::Data<Arc<AuthConfig>>>()
        .ok_or_else(|| AppError::Internal("auth configuration missing".into()))?;
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let first = values.next().ok_or_else(|| {
        AppError::Unauthorized("This request needs an Authorization: Bearer token.".into())
    })?;
    // Two credentials: which one counts is not for Hearth to guess.
    if values.next().is_some() {
        return Err(AppError::BadRequest(
            "The request carries more than one Authorization header; send exactly one.".into(),
        ));
    }
    let value = first
        .to_str()
        .map_err(|_| AppError::Unauthorized("The Authorization header is malformed.".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("The Authorization header must be `Bearer <token>`.".into())
        })?;
    auth.verify(token)
}

/// Parses a lifetime such as `90s`, `15m`, `1h`, `7d`.
pub fn parse_ttl(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("bad ttl {s:?}: use e.g. 30m, 1h, 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("bad ttl unit in {s:?}: use s, m, h or d")),
    };
    if secs <= 0 {
        return Err("ttl must be positive".into());
    }
    Ok(chrono::Duration::seconds(secs))
}
