//! Cursor pages: the `limit` and `cursor` of every list, and the cut into a page.

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::error::{AppError, AppResult};

/// Cursor pagination parameters shared by every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// How many items to return, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> AppResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=200) => Ok(n as i64),
            Some(_) => Err(AppError::validation(
                "limit",
                "out_of_range",
                "limit must be between 1 and 200.",
            )),
        }
    }

    /// Where the page of `list` starts: the key in a cursor that `list` issued (another list's
    /// cursor, or one this service never issued, is a 422 `invalid_cursor`).
    pub fn after<T: DeserializeOwned>(&self, list: &str) -> AppResult<Option<T>> {
        self.cursor
            .as_deref()
            .map(|c| decode_cursor(list, c))
            .transpose()
    }
}

/// A cursor's content: the list it belongs to (a word such as `agencies`, with the id of the
/// record for a record's list) and the key after which the next page starts.
#[derive(Serialize)]
struct CursorOut<'a, K> {
    l: &'a str,
    k: K,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CursorIn<T> {
    l: String,
    k: T,
}

pub fn encode_cursor<T: Serialize>(list: &str, key: &T) -> String {
    let json = serde_json::to_vec(&CursorOut { l: list, k: key }).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

fn decode_cursor<T: DeserializeOwned>(list: &str, s: &str) -> AppResult<T> {
    let bad = |message: &str| AppError::validation("cursor", "invalid_cursor", message);
    let not_issued = || bad("The cursor is not one this service issued.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| not_issued())?;
    let c: CursorIn<T> = serde_json::from_slice(&bytes).map_err(|_| not_issued())?;
    if c.l != list {
        return Err(bad(
            "The cursor belongs to another list; pass the next_cursor of this list.",
        ));
    }
    Ok(c.k)
}

/// Cuts a list fetched with `limit + 1` rows into a page and the cursor of the next one, a
/// cursor of `list`.
pub fn paginate<T, K: Serialize>(
    mut rows: Vec<T>,
    limit: i64,
    list: &str,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<String>) {
    if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        let next = rows.last().map(|r| encode_cursor(list, &key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(cursor: Option<String>) -> PageQuery {
        PageQuery {
            limit: None,
            cursor,
        }
    }

    #[test]
    fn a_cursor_is_read_only_by_the_list_that_issued_it() {
        let id = uuid::Uuid::now_v7();
        let c = encode_cursor("agencies", &id);
        assert_eq!(
            query(Some(c.clone()))
                .after::<uuid::Uuid>("agencies")
                .unwrap(),
            Some(id)
        );
        for (list, cursor) in [
            ("projects", c.clone()),
            ("agencies", "garbage".to_string()),
            // A bare key, as cursors were written before they named their list.
            (
                "agencies",
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(serde_json::to_vec(&id).unwrap()),
            ),
        ] {
            match query(Some(cursor)).after::<uuid::Uuid>(list) {
                Err(AppError::Validation(e)) => {
                    assert_eq!(
                        (e[0].field.as_str(), e[0].code.as_str()),
                        ("cursor", "invalid_cursor")
                    )
                }
                other => panic!("{list}: {other:?}"),
            }
        }
        assert_eq!(query(None).after::<uuid::Uuid>("agencies").unwrap(), None);
    }
}
