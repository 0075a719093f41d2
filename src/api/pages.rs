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

    /// Checks `limit` and `cursor` (a cursor of `list`) before the list is read, so a bad one
    /// is a 422 whatever the list holds.
    pub fn check(&self, list: &str) -> AppResult<()> {
        self.limit()?;
        self.after::<serde_json::Value>(list)?;
        Ok(())
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

/// Where a page of a list answered whole starts: after the item with key `k`, found again by
/// its key (or, when it is gone since, at the place it had, `i`).
#[derive(Serialize, Deserialize)]
struct Resume<K> {
    i: usize,
    k: K,
}

/// A page of a list its service answers whole, in its own order (a record's or a stay's own
/// lists: consents, contacts, stays, services, ...): the items after the cursor's, at most
/// `limit`, and the cursor of the next page. `list` names the list and its record, so a cursor
/// of another list (or another record's) is a 422 `invalid_cursor`. The list is read again for
/// each page: one that changed between pages goes on after the last item answered, or, when
/// that one is gone, from the place it had.
pub fn page_of<T, K>(
    items: Vec<T>,
    q: &PageQuery,
    list: &str,
    key: impl Fn(&T) -> K,
) -> AppResult<(Vec<T>, Option<String>)>
where
    K: Serialize + DeserializeOwned + PartialEq,
{
    let limit = q.limit()? as usize;
    let start = match q.after::<Resume<K>>(list)? {
        None => 0,
        Some(r) => items
            .iter()
            .position(|t| key(t) == r.k)
            .map(|at| at + 1)
            .unwrap_or(r.i.min(items.len())),
    };
    let end = start.saturating_add(limit).min(items.len());
    let more = end < items.len();
    let next = match (more, end.checked_sub(1).and_then(|last| items.get(last))) {
        (true, Some(last)) => Some(encode_cursor(
            list,
            &Resume {
                i: end,
                k: key(last),
            },
        )),
        _ => None,
    };
    let page = items.into_iter().skip(start).take(end - start).collect();
    Ok((page, next))
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

    #[test]
    fn a_list_answered_whole_pages_by_its_items_keys() {
        let q = |limit: u32, cursor: Option<String>| PageQuery {
            limit: Some(limit),
            cursor,
        };
        let items: Vec<u32> = (1..=5).collect();
        let (p1, c1) = page_of(items.clone(), &q(2, None), "l:1", |i| *i).unwrap();
        assert_eq!(p1, vec![1, 2]);
        let (p2, c2) = page_of(items.clone(), &q(2, c1.clone()), "l:1", |i| *i).unwrap();
        assert_eq!(p2, vec![3, 4]);
        let (p3, c3) = page_of(items.clone(), &q(2, c2.clone()), "l:1", |i| *i).unwrap();
        assert_eq!((p3, c3), (vec![5], None));
        // The last item answered is gone: the next page starts where it was.
        let fewer: Vec<u32> = vec![1, 3, 4, 5];
        let (p, _) = page_of(fewer, &q(2, c1.clone()), "l:1", |i| *i).unwrap();
        assert_eq!(p, vec![4, 5]);
        // Another record's list refuses the cursor.
        assert!(page_of(items, &q(2, c1), "l:2", |i| *i).is_err());
        let (all, none) =
            page_of((1..=3).collect::<Vec<u32>>(), &q(3, None), "l:1", |i| *i).unwrap();
        assert_eq!((all.len(), none), (3, None));
    }
}
