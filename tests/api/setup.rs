//! What the set-up instructions and error messages name exists in the repository.

use std::fs;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every `scripts/<name>` written in a file: the path up to the first character a file name here
/// does not use.
fn script_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("scripts/") {
        // `foo/scripts/x` names something else; `./scripts/x` and `scripts/x` name ours.
        let head = &text[..i];
        let before = head.chars().next_back();
        let ours = match before {
            Some('/') => head.ends_with("./") && !head.ends_with("../"),
            Some(c) => !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'),
            None => true,
        };
        if !ours {
            continue;
        }
        let rest = &text[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "/._-".contains(c)))
            .unwrap_or(rest.len());
        found.push(rest[..end].trim_end_matches('.').to_string());
    }
    found
}

#[test]
fn every_script_the_sources_and_docs_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    // Not tests/: this file's own examples would count.
    for dir in ["src", "scripts", "docs", ".ci"] {
        if root.join(dir).is_dir() {
            files_under(&root.join(dir), &mut files);
        }
    }
    files.extend(["README.md", "Dockerfile"].map(|f| root.join(f)));
    let mut named = 0;
    let mut missing = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for path in script_paths(&text) {
            if path == "scripts/" {
                continue;
            }
            named += 1;
            if !root.join(&path).is_file() {
                missing.push(format!("{} names {path}", file.display()));
            }
        }
    }
    assert!(
        named >= 5,
        "found only {named} script paths: the scan is broken"
    );
    assert!(missing.is_empty(), "missing scripts: {missing:#?}");
}

#[test]
fn the_scanner_finds_paths_and_skips_others() {
    let text = "run ./scripts/test.sh, or scripts/ensure-x.sh. not foo/scripts/y.sh";
    assert_eq!(
        script_paths(text),
        ["scripts/test.sh", "scripts/ensure-x.sh"]
    );
}
