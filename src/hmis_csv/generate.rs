//! Generates `spec_data.rs` from HUD's sheets (`../shared/hmis-csv-spec/`). Run by the test
//! `spec_matches_sheets`; `HEARTH_UPDATE_HMIS_SPEC=1` rewrites the committed file.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

struct Col {
    name: String,
    ty: String,
    list: Option<String>,
    nullable: bool,
    excluded: Vec<String>,
    conds: Vec<(Vec<(String, String)>, String)>,
}

/// Spreadsheet artifacts: `1.1000000000000001` is `1.1`.
fn list_id(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || s == "*" || s.starts_with('(') {
        return None;
    }
    match (s.split_once('.'), s.parse::<f64>()) {
        (Some((_, frac)), Ok(f)) if frac.len() > 6 => Some(f.to_string()),
        _ => Some(s.to_string()),
    }
}

fn read(path: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|x| x.expect("sheet row")).collect()
}

fn ty_code(t: &str) -> String {
    match t {
        "I" => "Ty::Int".into(),
        "D" => "Ty::Date".into(),
        "T" => "Ty::Timestamp".into(),
        "M" => "Ty::Money { non_negative: false }".into(),
        "M+" => "Ty::Money { non_negative: true }".into(),
        "S" => "Ty::Str(None)".into(),
        s if s.starts_with('S') => format!("Ty::Str(Some({}))", s[1..].parse::<u32>().unwrap()),
        other => panic!("unknown type {other:?}"),
    }
}

/// Parses "If RecordType = 144 TypeProvided = 3 then use list V2.A" and "If Disability Type is
/// NOT 10 then use list 1.8".
fn parse_cond(text: &str) -> Option<(Vec<(String, String)>, String)> {
    let text = text.replace("Disability Type is NOT ", "DisabilityType != ");
    let toks: Vec<&str> = text.split_whitespace().collect();
    let li = toks.iter().position(|t| t.eq_ignore_ascii_case("list"))?;
    let list = list_id(toks.get(li + 1)?)?;
    let mut when = Vec::new();
    for i in 1..li {
        let v = toks[i + 1].trim_end_matches(',');
        match toks[i] {
            "=" => when.push((toks[i - 1].to_string(), v.to_string())),
            "!=" => when.push((toks[i - 1].to_string(), format!("!{v}"))),
            _ => {}
        }
    }
    Some((when, list))
}

type Files = Vec<(String, Vec<Col>)>;

fn fy2024(dir: &Path) -> (Files, BTreeMap<String, Vec<String>>) {
    let mut files: Files = Vec::new();
    for r in read(&dir.join("CSV_Lists_Data_Dict_FY2024.csv")) {
        let file = r[0].trim().to_string();
        // `SSN[1]`: a footnote mark in the sheet, not part of the name.
        let name = r[2].trim();
        let name = match name.split_once('[') {
            Some((n, _)) => n.trim().to_string(),
            None => name.to_string(),
        };
        if files.last().map(|(f, _)| f != &file).unwrap_or(true) {
            files.push((file.clone(), Vec::new()));
        }
        let cols = &mut files.last_mut().unwrap().1;
        // The sheet repeats a column once per data element it carries (LOSUnderThreshold,
        // SubsidyInformation, ...): one column in the file.
        if cols.iter().any(|c| c.name == name) {
            continue;
        }
        cols.push(Col {
            name,
            ty: r[3].trim().to_string(),
            list: list_id(&r[4]),
            nullable: r[5].trim().eq_ignore_ascii_case("y"),
            excluded: Vec::new(),
            conds: Vec::new(),
        });
    }
    for r in read(&dir.join("CSV_Lists_Validation_FY2024.csv")) {
        let (file, name, kind, rule) = (r[0].trim(), r[1].trim(), r[3].trim(), r[4].trim());
        let col = files
            .iter_mut()
            .find(|(f, _)| f == file)
            .and_then(|(_, cs)| cs.iter_mut().find(|c| c.name == name))
            .unwrap_or_else(|| panic!("validation row for unknown {file}.{name}"));
        if kind.eq_ignore_ascii_case("NotInList") {
            col.excluded = rule.split(',').map(|v| v.trim().to_string()).collect();
        } else if let Some(c) = parse_cond(rule) {
            col.conds.push(c);
        }
    }
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in read(&dir.join("CSV_Lists_FY2024.csv")) {
        let id = list_id(&r[0]).expect("list id");
        lists.entry(id).or_default().push(r[1].trim().to_string());
    }
    (files, lists)
}

/// FY2026 = FY2024 with the changes `FY2026.md` lists: the three files' headers are read from
/// its code blocks; the list changes are its bullet points.
fn fy2026(
    dir: &Path,
    files24: &Files,
    lists24: &BTreeMap<String, Vec<String>>,
) -> (Files, BTreeMap<String, Vec<String>>) {
    let md = std::fs::read_to_string(dir.join("FY2026.md")).expect("FY2026.md");
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lines = md.lines();
    while let Some(l) = lines.next() {
        if let Some(rest) = l.strip_prefix("**") {
            if let Some((file, _)) = rest.split_once(".csv FY2026**") {
                let header = lines
                    .by_ref()
                    .find(|l| !l.starts_with("```"))
                    .expect("header line");
                headers.insert(
                    file.to_string(),
                    header.split(',').map(str::to_string).collect(),
                );
            }
        }
    }
    assert_eq!(headers.len(), 3, "FY2026.md: three changed files");
    let mut files = Vec::new();
    for (file, cols) in files24 {
        let Some(h) = headers.get(file) else {
            files.push((file.clone(), cols.iter().map(clone_col).collect()));
            continue;
        };
        let mut out = Vec::new();
        for name in h {
            let old = match name.as_str() {
                "HispanicLatinao" => "HispanicLatinaeo",
                n => n,
            };
            let mut c = match cols.iter().find(|c| c.name == old) {
                Some(c) => clone_col(c),
                None => {
                    let list = match name.as_str() {
                        "Sex" => "4.21",
                        "MentalHealthConsultation" => "V10",
                        other => panic!("FY2026 {file}.{other}: not in FY2024 and not known"),
                    };
                    Col {
                        name: String::new(),
                        ty: "I".into(),
                        list: Some(list.into()),
                        nullable: true,
                        excluded: Vec::new(),
                        conds: Vec::new(),
                    }
                }
            };
            c.name = name.clone();
            if file == "Export" && name == "SourceID" {
                c.ty = "S350".into();
            }
            out.push(c);
        }
        files.push((file.clone(), out));
    }
    let mut lists = lists24.clone();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    lists.insert("4.21".into(), s(&["0", "1", "8", "9", "99"]));
    lists.insert("V10".into(), s(&["1", "2", "3", "4"]));
    lists.remove("3.6.1");
    lists.remove("R3.1");
    let fund = lists.get_mut("2.06.1").expect("2.06.1");
    fund.retain(|v| !["12", "47", "48", "49"].contains(&v.as_str()));
    fund.push("56".into());
    lists.get_mut("V3.3").expect("V3.3").retain(|v| v != "11");
    lists.get_mut("V2.2").expect("V2.2").push("10".into());
    (files, lists)
}

fn clone_col(c: &Col) -> Col {
    Col {
        name: c.name.clone(),
        ty: c.ty.clone(),
        list: c.list.clone(),
        nullable: c.nullable,
        excluded: c.excluded.clone(),
        conds: c.conds.clone(),
    }
}

/// Parent keys: a column named like another file's key points to it.
fn parents(file: &str, cols: &[Col], keys: &[(String, String)]) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for c in cols.iter().skip(1) {
        let target = if c.name == "ResProjectID" {
            Some("Project".to_string())
        } else {
            keys.iter()
                .find(|(f, k)| *k == c.name && f != file)
                .map(|(f, _)| f.clone())
        };
        if let Some(t) = target {
            out.push((c.name.clone(), t.clone(), t == "User"));
        }
    }
    out
}

fn emit(
    out: &mut String,
    ident: &str,
    version: &str,
    files: &Files,
    lists: &BTreeMap<String, Vec<String>>,
) {
    let keys: Vec<(String, String)> = files
        .iter()
        .filter(|(f, _)| {
            [
                "Export",
                "Organization",
                "User",
                "Project",
                "Client",
                "Enrollment",
                "Assessment",
            ]
            .contains(&f.as_str())
        })
        .map(|(f, c)| (f.clone(), c[0].name.clone()))
        .collect();
    let mut used: Vec<&str> = Vec::new();
    writeln!(
        out,
        "pub static {ident}: Spec = Spec {{\n    version: Version::{version},\n    files: &["
    )
    .unwrap();
    for (file, cols) in files {
        writeln!(out, "        FileSpec {{\n            name: {file:?},\n            key: {:?},\n            columns: &[", cols[0].name).unwrap();
        for c in cols {
            let list = match &c.list {
                Some(l) => {
                    used.push(l);
                    format!("Some({l:?})")
                }
                None => "None".into(),
            };
            let conds: Vec<String> = c
                .conds
                .iter()
                .map(|(w, l)| {
                    used.push(l);
                    format!("CondList {{ when: &{w:?}, list: {l:?} }}")
                })
                .collect();
            writeln!(
                out,
                "                Column {{ name: {:?}, ty: {}, list: {list}, nullable: {}, excluded: &{:?}, cond_lists: &[{}] }},",
                c.name,
                ty_code(&c.ty),
                c.nullable,
                c.excluded,
                conds.join(", ")
            )
            .unwrap();
        }
        writeln!(out, "            ],\n            parents: &[").unwrap();
        for (col, target, warn) in parents(file, cols, &keys) {
            writeln!(out, "                Parent {{ column: {col:?}, file: {target:?}, warn_only: {warn} }},").unwrap();
        }
        writeln!(out, "            ],\n        }},").unwrap();
    }
    writeln!(out, "    ],\n    lists: &[").unwrap();
    for (id, values) in lists {
        if used.contains(&id.as_str()) {
            writeln!(out, "        ({id:?}, &{values:?}),").unwrap();
        }
    }
    for l in used {
        assert!(
            lists.contains_key(l),
            "{version}: list {l} used but not defined"
        );
    }
    writeln!(out, "    ],\n}};\n").unwrap();
}

/// The text of `spec_data.rs` generated from the sheets in `dir`.
pub fn generate(dir: &Path) -> String {
    let (f24, l24) = fy2024(dir);
    let (f26, l26) = fy2026(dir, &f24, &l24);
    let mut out = String::from(
        "// @generated by src/hmis_csv/generate.rs from ../shared/hmis-csv-spec/ (HUD's FY2024 sheets\n\
         // and FY2026.md). Do not edit: run `HEARTH_UPDATE_HMIS_SPEC=1 cargo test --lib hmis_csv`.\n\n\
         use super::{Column, CondList, FileSpec, Parent, Spec, Ty, Version};\n\n",
    );
    emit(&mut out, "FY2024", "Fy2024", &f24, &l24);
    emit(&mut out, "FY2026", "Fy2026", &f26, &l26);
    out
}
