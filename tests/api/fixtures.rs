//! What many test modules build: dates relative to today and ids out of answers. Tenants and
//! worlds come from `harness` (`coc`, `agency`, `project`, `token`).

use serde_json::Value;
use uuid::Uuid;

pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// `n` days before today, as the API writes dates.
pub fn days_ago(n: i64) -> String {
    (today() - chrono::Duration::days(n)).to_string()
}

/// The id of the object under `key` in an answer (`{"client": {"id": ...}}`).
pub fn id_of(v: &Value, key: &str) -> Uuid {
    v[key]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{key}.id in {v}"))
        .parse()
        .unwrap()
}
