//! `GET /v1/cocs/{code}/priority-list`: the Coordinated Entry priority list, in keyset pages
//! under signed cursors, full or incremental (`changed_since`).

use actix_web::{get, web};
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::support::ApiQuery;
use crate::api::support::{run_db, JsonReply};
use crate::error::{AppError, AppResult};
use crate::service::context::Caller;
use crate::service::priority_list::{self, PageState, PriorityEntry, RemovedEntry, Request};
use crate::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_priority_list);
}

/// How long a cursor stays valid.
const CURSOR_TTL_SECONDS: i64 = 3600;

/// The key cursors are signed with: `HEARTH_CURSOR_SECRET`, or a random key per process (then
/// a cursor is valid only on the instance that issued it).
fn cursor_key() -> &'static [u8] {
    static KEY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    KEY.get_or_init(|| match std::env::var("HEARTH_CURSOR_SECRET") {
        Ok(s) if s.len() >= 16 => s.into_bytes(),
        _ => (0..32).map(|_| rand::random::<u8>()).collect(),
    })
}

/// A key of its own for each use of the cursor key (`label`): HMAC of the label under it.
fn subkey(label: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(cursor_key()).expect("HMAC takes any key");
    m.update(label);
    m.finalize().into_bytes().into()
}

fn keyed(label: &'static [u8]) -> Hmac<Sha256> {
    static KEYS: std::sync::OnceLock<([u8; 32], [u8; 32])> = std::sync::OnceLock::new();
    let (enc, mac) = KEYS.get_or_init(|| (subkey(b"cursor-stream"), subkey(b"cursor-tag")));
    let key = if label == b"enc" { enc } else { mac };
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key")
}

/// XORs `data` with the keystream of `nonce`: HMAC-SHA256 under the stream key of the nonce and
/// a block counter (HMAC as a pseudorandom function in counter mode), so a cursor reveals
/// nothing of the page state (the last entry's rank and CE entry date are withheld from many
/// viewers by the datum rule).
fn stream_xor(nonce: &[u8], data: &mut [u8]) {
    for (i, chunk) in data.chunks_mut(32).enumerate() {
        let mut m = keyed(b"enc");
        m.update(nonce);
        m.update(&(i as u64).to_be_bytes());
        let block = m.finalize().into_bytes();
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
    }
}

/// The tag over the nonce and the ciphertext (encrypt, then MAC).
fn tag(nonce: &[u8], sealed: &[u8]) -> Hmac<Sha256> {
    let mut m = keyed(b"mac");
    m.update(nonce);
    m.update(sealed);
    m
}

const NONCE_LEN: usize = 16;

#[derive(serde::Serialize, Deserialize)]
struct SignedState {
    s: PageState,
    /// Expiry, Unix seconds.
    x: i64,
}

/// Seals a page state into an opaque cursor valid until `expires` (Unix seconds): encrypted
/// under a fresh nonce, then signed.
pub fn sign_cursor(state: &PageState, expires: i64) -> String {
    let mut payload = serde_json::to_vec(&SignedState {
        s: state.clone(),
        x: expires,
    })
    .unwrap_or_default();
    let nonce: [u8; NONCE_LEN] = rand::random();
    stream_xor(&nonce, &mut payload);
    let t = tag(&nonce, &payload).finalize().into_bytes();
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&payload);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b64.encode(&sealed), b64.encode(t))
}

/// Reads a cursor this service sealed; 422 naming `cursor` (`invalid_cursor`, as every list
/// answers a cursor it did not issue) when tampered with, expired or malformed.
pub fn verify_cursor(cursor: &str) -> AppResult<PageState> {
    let bad = |why: &str| {
        AppError::validation(
            "cursor",
            "invalid_cursor",
            format!("The cursor is not valid: {why}."),
        )
    };
    if cursor.len() > 2048 {
        return Err(bad("too long"));
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (p, t) = cursor.split_once('.').ok_or_else(|| bad("malformed"))?;
    let sealed = b64.decode(p).map_err(|_| bad("malformed"))?;
    let t = b64.decode(t).map_err(|_| bad("malformed"))?;
    if sealed.len() <= NONCE_LEN {
        return Err(bad("malformed"));
    }
    let (nonce, payload) = sealed.split_at(NONCE_LEN);
    tag(nonce, payload)
        .verify_slice(&t)
        .map_err(|_| bad("it was not issued by this service"))?;
    let mut payload = payload.to_vec();
    stream_xor(nonce, &mut payload);
    let signed: SignedState = serde_json::from_slice(&payload).map_err(|_| bad("malformed"))?;
    if signed.x < Utc::now().timestamp() {
        return Err(bad("it has expired; start the pull again"));
    }
    Ok(signed.s)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PriorityListQuery {
    /// Entries per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page (it carries the view, `as_of` and `changed_since`).
    pub cursor: Option<String>,
    /// `coc` (coc_admin only): every record with an active CE stay that the caller may read,
    /// its CoC's locked, closed and private ones included at level `limited` (`coc_aggregate`).
    /// `list` by default; with a cursor, the cursor's view (a contradicting one is a 422
    /// `invalid_cursor`).
    #[param(value_type = Option<crate::domain::contract_words::PriorityListView>)]
    pub view: Option<String>,
    /// RFC 3339: answer only the entries added, changed or removed since then (pass the
    /// `as_of` of the previous pull).
    #[param(value_type = Option<String>, format = DateTime)]
    pub changed_since: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PriorityListPage {
    pub coc_code: String,
    /// `list` or `coc`.
    #[schema(value_type = crate::domain::contract_words::PriorityListView)]
    pub view: String,
    /// Pass as `changed_since` in the next pull: every change before it is in this answer or an
    /// earlier one.
    pub as_of: DateTime<Utc>,
    /// The entries in list order (full pull), or those added or changed (incremental pull, by
    /// client id).
    pub items: Vec<PriorityEntry>,
    /// Incremental pulls: clients no longer listed for the caller (off the list, or no longer
    /// readable by it), named only to a caller that may have seen them listed.
    pub removed: Vec<RemovedEntry>,
    pub next_cursor: Option<String>,
}

/// The Coordinated Entry priority list of a CoC: active CE stays of effectively open and
/// de-identified open records, by the latest CE assessment's score (descending, none last),
/// then CE entry date, then client id. For the CoC's priority list readers, CE assessors,
/// coc_admins and the users of its agencies. Each entry carries the caller's own decision on
/// the record (`access`), judged by the list's CoC (consent.md: "The priority list ... judge[s] a
/// record by the list's ... CoC"): the one `GET /v1/clients/{id}` gives it for a record of this
/// CoC; a record created in another CoC and listed here (a CE stay here) is judged as one of
/// this CoC on the list only, and a single read still judges it by its own CoC (it may answer
/// 404). A listed record that the caller may not read on the list (level `none`) is left out,
/// as from every list. Basis `priority_list` is the priority_list_reader role's (record rule
/// row 8).
#[utoipa::path(
    tag = "coordinated entry",
    params(("code" = String, Path, description = "HUD CoC code", example = "IL-510"), PriorityListQuery),
    responses(
        (status = 200, body = PriorityListPage),
        (status = 400, description = "Malformed CoC code"),
        (status = 403, description = "Another CoC's list, or the CoC view without coc_admin"),
        (status = 404, description = "No such CoC"),
        (status = 422, description = "limit or view out of range; a tampered, expired or other-list cursor (`cursor`, `invalid_cursor`); an unparsable or future changed_since (`changed_since`); named in errors"),
    )
)]
#[get("/cocs/{code}/priority-list")]
async fn get_priority_list(
    state: web::Data<AppState>,
    caller: Caller,
    code: web::Path<String>,
    q: ApiQuery<PriorityListQuery>,
) -> AppResult<JsonReply> {
    let code = code.into_inner();
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n as i64,
        Some(_) => {
            return Err(AppError::validation(
                "limit",
                "out_of_range",
                "limit must be between 1 and 1000.",
            ))
        }
    };
    // Without `view`, a cursor's own view (it carries it); `list` on a first page.
    let coc_view = match q.view.as_deref() {
        None => None,
        Some("list") => Some(false),
        Some("coc") => Some(true),
        Some(_) => {
            return Err(AppError::validation(
                "view",
                "not_in_list",
                "view is `list` or `coc`.",
            ))
        }
    };
    let changed_since = match q.changed_since.as_deref() {
        None => None,
        Some(s) => Some(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| {
                    AppError::validation(
                        "changed_since",
                        "invalid_value",
                        "changed_since is an RFC 3339 timestamp (2026-05-01T12:00:00Z).",
                    )
                })?
                .with_timezone(&Utc),
        ),
    };
    let resume = q.cursor.as_deref().map(verify_cursor).transpose()?;
    let page = run_db(&state, move |conn| {
        priority_list::read(
            conn,
            &caller,
            &code,
            Request {
                coc_view,
                limit,
                changed_since,
                resume,
            },
        )
        .map(|p| (p, code))
    })
    .await?;
    let (page, code) = page;
    let view = if page.coc_view { "coc" } else { "list" };
    let expires = Utc::now().timestamp() + CURSOR_TTL_SECONDS;
    JsonReply::ok(&PriorityListPage {
        coc_code: code,
        view: view.into(),
        as_of: page.as_of,
        items: page.items,
        removed: page.removed,
        next_cursor: page.next.as_ref().map(|s| sign_cursor(s, expires)),
    })
}
