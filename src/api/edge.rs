//! Input refused once, at the edge, before any handler or query sees it: text with a NUL (which
//! PostgreSQL cannot store), over-long text, lone UTF-16 surrogates, dates not written YYYY-MM-DD
//! with a year from 0001 to 9999 (`domain::dates`),
//! numbers past 10^15 in magnitude (or past what a double holds), bytes after the JSON value, and path or query parameters holding a NUL or a control byte. Each
//! refusal is a problem document naming the field (422 for a body field, 400 for a path or query
//! parameter); none repeats the submitted value.

use serde_json::Value;

use crate::domain::dates;
use crate::error::{AppError, AppResult, FieldError};

/// The longest text any body field may hold, in characters, unless listed in [`LONG_FIELDS`].
/// Fields with a tighter rule (names, codes) check it themselves.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Fields allowed to be longer than [`MAX_TEXT_CHARS`], with their own bound (the contract says
/// it as `maxLength`; the body size limit still applies): base64 of 5 MiB.
const LONG_FIELDS: &[(&str, usize)] = &[("content_base64", 6_990_508)];

/// The longest path segment and query parameter value, in characters.
pub const MAX_PATH_SEGMENT_CHARS: usize = 256;
pub const MAX_QUERY_VALUE_CHARS: usize = 1024;

/// The largest magnitude any number in a body may have, whatever its field (10^15: below it a
/// JSON number keeps every integer digit). Fields with a tighter range check it themselves, and
/// the contract says it as `minimum`/`maximum`.
pub const MAX_NUMBER: f64 = 1e15;

const NUMBER_OUT_OF_RANGE: &str = "Numbers are at most 10^15 in magnitude.";

/// At most this many field errors are reported for one body.
const MAX_ERRORS: usize = 20;

/// The longest object key echoed back in `errors[].field`.
const MAX_ECHOED_KEY_CHARS: usize = 64;

/// Checks a JSON body as a whole: it parses, nothing follows the value, and every string in it
/// passes [`check_text`]. Field names in errors are JSON paths (`scope.cocs[1]`).
pub fn check_json_body(body: &[u8]) -> AppResult<Value> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let duplicates = std::cell::RefCell::new(Vec::new());
    let mut track = serde_path_to_error::Track::new();
    let seed = UniqueKeys {
        path: String::new(),
        duplicates: &duplicates,
    };
    let parsed = serde::de::DeserializeSeed::deserialize(
        seed,
        serde_path_to_error::Deserializer::new(&mut *de, &mut track),
    )
    .map_err(|e| serde_path_to_error::Error::new(track.path(), e));
    let value: Value = match parsed {
        Ok(v) => v,
        Err(e) => {
            let field = field_path(e.path());
            let inner = e.into_inner();
            let msg = inner.to_string();
            if msg.contains("surrogate") || msg.contains("hex escape") {
                return Err(AppError::validation(
                    &field,
                    "invalid_unicode",
                    "Text must be valid Unicode (a lone UTF-16 surrogate is not).",
                ));
            }
            if msg.starts_with("number out of range") {
                // Past what a double holds (1e400): the field is named, like any number too big.
                return Err(AppError::validation(
                    &field,
                    "out_of_range",
                    NUMBER_OUT_OF_RANGE,
                ));
            }
            if msg.contains("recursion limit") {
                return Err(AppError::BadRequest(
                    "The body nests JSON too deeply.".into(),
                ));
            }
            return Err(AppError::BadRequest(format!(
                "The body is not valid JSON (line {}, column {}).",
                inner.line(),
                inner.column()
            )));
        }
    };
    if de.end().is_err() {
        return Err(AppError::BadRequest(
            "The body has bytes after its JSON value; send exactly one JSON value.".into(),
        ));
    }
    // A key sent twice: serde_json keeps the last, a proxy or another parser may keep the
    // first; which one the caller meant is not for Hearth to guess.
    let mut errors: Vec<FieldError> = duplicates
        .into_inner()
        .into_iter()
        .take(MAX_ERRORS)
        .map(|field| {
            FieldError::new(
                field,
                "duplicate_key",
                "This field is sent more than once in its object.",
            )
        })
        .collect();
    walk(&value, &mut String::new(), None, &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Reads a JSON value as `serde_json::Value` does, noting every object key that repeats (its
/// path, as [`walk`] writes paths) instead of letting the last one win silently.
struct UniqueKeys<'a> {
    path: String,
    duplicates: &'a std::cell::RefCell<Vec<String>>,
}

impl UniqueKeys<'_> {
    fn child(&self, step: &str) -> Self {
        let mut path = self.path.clone();
        if !step.starts_with('[') && !path.is_empty() {
            path.push('.');
        }
        path.push_str(step);
        UniqueKeys {
            path,
            duplicates: self.duplicates,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for UniqueKeys<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for UniqueKeys<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        serde::de::DeserializeSeed::deserialize(self, d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&sanitize_key(&key));
            let value = map.next_value_seed(UniqueKeys {
                path: child.path.clone(),
                duplicates: self.duplicates,
            })?;
            if out.contains_key(&key) {
                self.duplicates.borrow_mut().push(child.path);
            } else {
                out.insert(key, value);
            }
        }
        Ok(Value::Object(out))
    }
}

fn walk(v: &Value, path: &mut String, key: Option<&str>, errors: &mut Vec<FieldError>) {
    if errors.len() >= MAX_ERRORS {
        return;
    }
    match v {
        Value::String(s) => {
            let max = key
                .and_then(|k| LONG_FIELDS.iter().find(|(f, _)| *f == k))
                .map_or(MAX_TEXT_CHARS, |(_, n)| *n);
            if let Err((code, message)) = check_text(s, max) {
                errors.push(FieldError::new(path.clone(), code, message));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, key, errors);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&sanitize_key(k));
                walk(item, path, Some(k), errors);
                path.truncate(len);
            }
        }
        Value::Number(n) if !n.as_f64().is_some_and(|x| x.abs() <= MAX_NUMBER) => {
            errors.push(FieldError::new(
                path.clone(),
                "out_of_range",
                NUMBER_OUT_OF_RANGE,
            ));
        }
        _ => {}
    }
}

/// The rules every text value meets, whatever its field: no NUL, at most `max` characters, and a
/// date written the way this API writes dates (a year of four digits, no sign).
pub fn check_text(s: &str, max: usize) -> Result<(), (&'static str, String)> {
    if s.contains('\0') {
        return Err((
            "nul_character",
            "Text must not contain the NUL character.".into(),
        ));
    }
    if s.len() > max && s.chars().count() > max {
        return Err(("too_long", format!("At most {max} characters.")));
    }
    check_date_shape(s)
}

/// A value chrono would read as a date is written the way this API writes dates
/// (`domain::dates`): `YYYY-MM-DD`, a year of four digits from 0001 to 9999. Every body string
/// and query parameter is held to it, so no date field or parameter reads another shape.
pub fn check_date_shape(s: &str) -> Result<(), (&'static str, String)> {
    if is_out_of_range_date(s) || (s.starts_with("0000-") && dates::is_misshapen_date(s)) {
        return Err(("date_out_of_range", dates::DATE_RULE.into()));
    }
    if dates::is_misshapen_date(s) {
        return Err(("invalid_date", dates::DATE_RULE.into()));
    }
    Ok(())
}

/// An ISO 8601 date (or date-time) with an expanded year: a sign, or more than four digits
/// (`+10000-01-01`, `-0001-01-01`). chrono reads these, PostgreSQL and this API do not.
fn is_out_of_range_date(s: &str) -> bool {
    let (signed, rest) = match s.strip_prefix(['+', '-']) {
        Some(r) => (true, r),
        None => (false, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 || (!signed && digits == 4) {
        return false;
    }
    let tail = &rest.as_bytes()[digits..];
    tail.len() >= 6
        && tail[0] == b'-'
        && tail[1..3].iter().all(u8::is_ascii_digit)
        && tail[3] == b'-'
        && tail[4..6].iter().all(u8::is_ascii_digit)
        && (tail.len() == 6 || tail[6] == b'T' || tail[6] == b't' || tail[6] == b' ')
}

/// An object key as it may be echoed in `errors[].field`: a plain identifier of at most 64
/// characters, or `*` (a key could hold anything, PII included, and errors never repeat values).
pub fn sanitize_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.len() <= MAX_ECHOED_KEY_CHARS
        && k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        k.to_string()
    } else {
        "*".to_string()
    }
}

/// A serde path as a field name for `errors[].field`, each key sanitized.
pub fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&sanitize_key(key));
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&sanitize_key(variant));
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

/// Checks the request target: every path segment and query parameter, percent-decoded, is UTF-8
/// with no NUL or other control byte and is bounded. Answers the 400 to send otherwise.
pub fn check_target(path: &str, query: Option<&str>) -> Result<(), AppError> {
    for segment in path.split('/') {
        let decoded = percent_decode(segment);
        check_param(&decoded, MAX_PATH_SEGMENT_CHARS)
            .map_err(|why| AppError::BadRequest(format!("A path segment {why}.")))?;
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let name = String::from_utf8(percent_decode(&k.replace('+', " ")))
            .ok()
            .filter(|n| {
                !n.is_empty()
                    && n.len() <= MAX_ECHOED_KEY_CHARS
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        let what = match &name {
            Some(n) => format!("The query parameter {n}"),
            None => "A query parameter".to_string(),
        };
        if name.is_none() {
            return Err(AppError::BadRequest(format!(
                "{what} has a name that is not a plain identifier."
            )));
        }
        let decoded = percent_decode(&v.replace('+', " "));
        check_param(&decoded, MAX_QUERY_VALUE_CHARS)
            .map_err(|why| AppError::BadRequest(format!("{what} {why}.")))?;
    }
    Ok(())
}

fn check_param(bytes: &[u8], max: usize) -> Result<(), String> {
    let s = std::str::from_utf8(bytes).map_err(|_| "is not valid UTF-8".to_string())?;
    if s.contains('\0') {
        return Err("holds a NUL character".into());
    }
    if s.chars().any(char::is_control) {
        return Err("holds a control character".into());
    }
    if s.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    Ok(())
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(body: &str) -> Vec<(String, String)> {
        match check_json_body(body.as_bytes()) {
            Ok(_) => vec![],
            Err(AppError::Validation(errs)) => {
                errs.into_iter().map(|e| (e.field, e.code)).collect()
            }
            Err(AppError::BadRequest(_)) => vec![("".into(), "bad_request".into())],
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn nul_long_surrogate_and_dates_are_named() {
        assert_eq!(
            codes(r#"{"a": {"b": ["x", "y\u0000"]}}"#),
            vec![("a.b[1]".into(), "nul_character".into())]
        );
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            codes(&format!(r#"{{"note": "{long}"}}"#)),
            vec![("note".into(), "too_long".into())]
        );
        assert!(codes(&format!(r#"{{"content_base64": "{long}"}}"#)).is_empty());
        assert_eq!(
            codes(r#"{"name": "\ud800"}"#),
            vec![("name".into(), "invalid_unicode".into())]
        );
        assert_eq!(
            codes(r#"{"roi": {"expires_on": "+10000-01-01"}}"#),
            vec![("roi.expires_on".into(), "date_out_of_range".into())]
        );
        assert_eq!(codes(r#"{"d": "-0001-01-01"}"#).len(), 1);
        assert_eq!(codes(r#"{"d": "12345-01-01T00:00:00Z"}"#).len(), 1);
        assert!(
            codes(r#"{"d": "2024-01-01", "n": "+1 555 0100", "e": "\ud83d\ude00"}"#).is_empty()
        );
        for (d, code) in [
            ("0000-01-01", "date_out_of_range"),
            ("+2026-01-01", "date_out_of_range"),
            ("-2026-01-01", "date_out_of_range"),
            ("2026-1-1", "invalid_date"),
            ("2026-01-01 ", "invalid_date"),
        ] {
            assert_eq!(
                codes(&format!(r#"{{"a": [{{"entry_date": "{d}"}}]}}"#)),
                vec![("a[0].entry_date".into(), code.into())],
                "{d}"
            );
        }
    }

    #[test]
    fn huge_numbers_are_named() {
        assert_eq!(
            codes(r#"{"quantity": 1.7976931348623157e308}"#),
            vec![("quantity".into(), "out_of_range".into())]
        );
        assert_eq!(
            codes(r#"{"a": [1, {"score": -1e16}]}"#),
            vec![("a[1].score".into(), "out_of_range".into())]
        );
        assert_eq!(
            codes(r#"{"a": {"b": 1e400}}"#),
            vec![("a.b".into(), "out_of_range".into())]
        );
        assert_eq!(
            codes(r#"{"n": 123456789012345678901234567890}"#),
            vec![("n".into(), "out_of_range".into())]
        );
        assert!(codes(r#"{"a": 1e15, "b": -1e15, "c": 0.5, "d": -7}"#).is_empty());
    }

    #[test]
    fn trailing_bytes_and_bad_json_are_refused() {
        assert_eq!(
            codes(r#"{"a": 1} x"#),
            vec![("".into(), "bad_request".into())]
        );
        assert_eq!(
            codes(r#"{"a": 1}{}"#),
            vec![("".into(), "bad_request".into())]
        );
        assert!(codes("{\"a\": 1}\n  ").is_empty());
    }

    #[test]
    fn a_key_sent_twice_is_named_at_any_depth() {
        assert_eq!(
            codes(r#"{"identity_mode": "x", "visibility": "private", "visibility": "closed"}"#),
            vec![("visibility".into(), "duplicate_key".into())]
        );
        assert_eq!(
            codes(r#"{"roi": {"scope": {"coc_codes": [], "coc_codes": []}}}"#),
            vec![("roi.scope.coc_codes".into(), "duplicate_key".into())]
        );
        assert_eq!(
            codes(r#"{"a": [{"b": 1}, {"c": 1, "c": 2}]}"#),
            vec![("a[1].c".into(), "duplicate_key".into())]
        );
        // The same key in two objects is no duplicate; values come through unchanged.
        let v =
            check_json_body(br#"{"a": {"k": 1.5}, "b": {"k": [true, null, -2, "s"]}}"#).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a": {"k": 1.5}, "b": {"k": [true, null, -2, "s"]}})
        );
    }

    #[test]
    fn keys_are_echoed_only_when_plain() {
        assert_eq!(sanitize_key("first_name"), "first_name");
        assert_eq!(sanitize_key("123-45-6789"), "*");
        assert_eq!(sanitize_key("a\u{0}b"), "*");
        assert_eq!(sanitize_key(&"k".repeat(65)), "*");
        assert_eq!(
            codes(r#"{"John Smith": "\u0000"}"#),
            vec![("*".into(), "nul_character".into())]
        );
    }

    #[test]
    fn targets() {
        assert!(check_target("/v1/cocs/IL-510", Some("limit=5&cursor=abc")).is_ok());
        assert!(check_target("/v1/cocs/IL%00", None).is_err());
        assert!(check_target("/v1/cocs/%ED%A0%80", None).is_err());
        assert!(check_target("/v1/cocs", Some("cursor=a%00")).is_err());
        assert!(check_target("/v1/cocs", Some("cursor=a%01")).is_err());
        assert!(check_target("/v1/cocs", Some(&format!("cursor={}", "a".repeat(1025)))).is_err());
        assert!(check_target(&format!("/v1/cocs/{}", "a".repeat(257)), None).is_err());
        assert!(check_target("/v1/cocs", Some("x%3Cy=1")).is_err());
        assert!(check_target("/v1/cocs", Some("name=a+b%20c")).is_ok());
    }
}
