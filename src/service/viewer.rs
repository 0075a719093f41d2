//! Builds the consent engine's `Viewer` from a token's principal and the agency it names.

use diesel::PgConnection;

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
            let a = repo::find_agency(conn, id)?.ok_or_else(|| {
                AppError::Forbidden("The token's agency is not known to Hearth.".into())
            })?;
            (Some(a.coc_code.into()), a.shares_data)
        }
    };
    Ok(Viewer {
        agency_id: p.agency_id,
        coc_code,
        agency_shares_data: shares,
        roles: p.roles.clone(),
    })
}
