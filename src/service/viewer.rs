//! Builds the consent engine's `Viewer` from a token's principal and the agency it names.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Principal;
use crate::consent::Viewer;
use crate::error::{AppError, AppResult};
use crate::repo::tenants as repo;

/// The CoC of the caller's agency, if the token names a known agency.
pub fn caller_coc(conn: &mut PgConnection, p: &Principal) -> AppResult<Option<String>> {
    match p.agency_id {
        None => Ok(None),
        Some(id) => Ok(repo::find_agency(conn, id)?.map(|a| a.coc_code.into())),
    }
}

/// 403 when the token names an agency Hearth does not know: its claims cannot be placed.
pub fn load_viewer(conn: &mut PgConnection, p: &Principal) -> AppResult<Viewer> {
    let (coc_code, shares) = match p.agency_id {
        None => (None, false),
        Some(id) => {
            let Some(a) = repo::find_agency(conn, id)? else {
                remembered().write().map(|mut m| m.remove(&id)).ok();
                return Err(AppError::Forbidden(
                    "The token's agency is not known to Hearth.".into(),
                ));
            };
            let facts = (Some(a.coc_code.into()), a.shares_data);
            if let Ok(mut m) = remembered().write() {
                if m.len() >= REMEMBERED_MAX && !m.contains_key(&id) {
                    m.clear();
                }
                m.insert(id, facts.clone());
            }
            facts
        }
    };
    Ok(Viewer {
        agency_id: p.agency_id,
        coc_code,
        agency_shares_data: shares,
        roles: p.roles.clone(),
    })
}

/// An agency's CoC and sharing flag, as a viewer holds them.
type AgencyFacts = (Option<String>, bool);

/// The most agencies `remembered` holds; past it, it starts again.
const REMEMBERED_MAX: usize = 10_000;

/// The facts a viewer is built from (its agency's CoC and sharing flag), as `load_viewer` last
/// read them, by agency.
fn remembered() -> &'static RwLock<HashMap<Uuid, AgencyFacts>> {
    static FACTS: OnceLock<RwLock<HashMap<Uuid, AgencyFacts>>> = OnceLock::new();
    FACTS.get_or_init(Default::default)
}

/// The viewer as it was when its agency was last loaded, without a query: a hint, never an
/// answer on its own. A statement that applies its filter checks, in its own snapshot, that the
/// agency still has these facts (`consent::sql::viewer_current_sql`), and the caller loads the
/// viewer when it did not (`service::search`). `None` without an agency, or for one never loaded.
pub fn remembered_viewer(p: &Principal) -> Option<Viewer> {
    let id = p.agency_id?;
    let (coc_code, shares) = remembered().read().ok()?.get(&id).cloned()?;
    Some(Viewer {
        agency_id: Some(id),
        coc_code,
        agency_shares_data: shares,
        roles: p.roles.clone(),
    })
}
