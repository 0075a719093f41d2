//! The floors of docs/architecture.md, checked on the source: services hold no SQL and no diesel
//! query DSL (queries live in src/repo), and nothing below the HTTP floor imports from it.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of code (comments dropped) of every file under `dir`.
fn code_lines(dir: &str) -> Vec<(String, usize, String)> {
    let mut files = vec![];
    rust_files(Path::new(dir), &mut files);
    let mut out = vec![];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with("//") {
                continue;
            }
            out.push((f.display().to_string(), i + 1, t.to_string()));
        }
    }
    out
}

#[test]
fn services_hold_no_sql_and_no_query_dsl() {
    // The connection type and transactions are the services' business; queries are not.
    const ALLOWED: &[&str] = &[
        "diesel::QueryResult",
        "diesel::PgConnection",
        "diesel::Connection",
        "diesel::{Connection, PgConnection}",
    ];
    const SQL: &[&str] = &[
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE FROM",
        "sql_query",
        "sql_types",
        "::table",
        "diesel::prelude",
    ];
    let mut found = vec![];
    for (file, n, line) in code_lines("src/service") {
        let diesel = line.contains("diesel::") && !ALLOWED.iter().any(|a| line.contains(a));
        let sql = SQL.iter().any(|k| line.contains(k));
        if diesel || sql {
            found.push(format!("{file}:{n}: {line}"));
        }
    }
    assert!(
        found.is_empty(),
        "move these into src/repo:\n{}",
        found.join("\n")
    );
}

#[test]
fn lower_floors_do_not_import_the_http_floor() {
    let mut found = vec![];
    for dir in ["src/service", "src/consent", "src/repo", "src/domain"] {
        for (file, n, line) in code_lines(dir) {
            if line.contains("crate::api") || line.contains("actix_web") {
                found.push(format!("{file}:{n}: {line}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_consent_engine_does_no_io() {
    let mut found = vec![];
    for (file, n, line) in code_lines("src/consent") {
        if file.ends_with("sql.rs") {
            continue; // builds SQL text; runs none
        }
        for k in [
            "diesel",
            "crate::repo",
            "crate::service",
            "std::fs",
            "std::net",
            "Utc::now",
            "Local::now",
        ] {
            if line.contains(k) && !line.contains("test") {
                found.push(format!("{file}:{n}: {line}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
