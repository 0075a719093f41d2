use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::validate::{validate_path, Limits, Report, Severity};
use super::{Spec, Ty, Version};

fn sheets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/hmis-csv-spec")
}

/// The committed `spec_data.rs` is what the generator makes of HUD's sheets.
#[test]
fn spec_matches_sheets() {
    let dir = sheets();
    if !dir.join("CSV_Lists_Data_Dict_FY2024.csv").exists() {
        eprintln!(
            "../shared/hmis-csv-spec is absent: spec_data.rs not checked against HUD's sheets"
        );
        return;
    }
    let fresh = super::generate::generate(&dir);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/hmis_csv/spec_data.rs");
    if std::env::var("HEARTH_UPDATE_HMIS_SPEC").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == fresh,
        "src/hmis_csv/spec_data.rs differs from the sheets; regenerate with HEARTH_UPDATE_HMIS_SPEC=1 cargo test --lib hmis_csv"
    );
}

/// HUD's column counts (FY2024 CSV spec; FY2026 changes Client, Enrollment).
const COUNTS_2024: [(&str, usize); 24] = [
    ("Export", 19),
    ("Organization", 9),
    ("User", 10),
    ("Project", 19),
    ("Funder", 12),
    ("ProjectCoC", 15),
    ("Inventory", 22),
    ("Affiliation", 8),
    ("HMISParticipation", 10),
    ("CEParticipation", 15),
    ("Client", 46),
    ("Enrollment", 71),
    ("Exit", 44),
    ("IncomeBenefits", 77),
    ("HealthAndDV", 18),
    ("EmploymentEducation", 15),
    ("Disabilities", 20),
    ("Services", 18),
    ("CurrentLivingSituation", 18),
    ("Assessment", 13),
    ("AssessmentQuestions", 13),
    ("AssessmentResults", 11),
    ("Event", 15),
    ("YouthEducationStatus", 13),
];

#[test]
fn both_versions_have_the_24_files_with_huds_column_counts() {
    for v in [Version::Fy2024, Version::Fy2026] {
        let spec = Spec::get(v);
        assert_eq!(spec.version, v);
        let names: Vec<&str> = spec.files.iter().map(|f| f.name).collect();
        let want: Vec<&str> = COUNTS_2024.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, want, "{v:?}: files in HUD's order");
        for (name, n) in COUNTS_2024 {
            let n = match (v, name) {
                (Version::Fy2026, "Client") => 38,
                (Version::Fy2026, "Enrollment") => 67,
                _ => n,
            };
            let f = spec.file(name).unwrap();
            assert_eq!(f.columns.len(), n, "{v:?} {name}");
            assert_eq!(f.key, f.columns[0].name);
            let has_export_id = f.columns.iter().any(|c| c.name == "ExportID");
            assert!(has_export_id, "{v:?} {name}");
            // Every list a column names is defined.
            for c in f.columns {
                if let Some(l) = c.list {
                    assert!(spec.list(l).is_some(), "{v:?} {name}.{} list {l}", c.name);
                }
                for cl in c.cond_lists {
                    assert!(spec.list(cl.list).is_some());
                }
            }
        }
    }
    let s24 = Spec::get(Version::Fy2024);
    let s26 = Spec::get(Version::Fy2026);
    let col = |s: &Spec, f: &str, c: &str| s.file(f).unwrap().columns.iter().find(|x| x.name == c);
    assert!(col(s24, "Client", "Woman").is_some() && col(s26, "Client", "Woman").is_none());
    assert_eq!(col(s26, "Client", "Sex").unwrap().list, Some("4.21"));
    assert!(col(s26, "Client", "HispanicLatinao").is_some());
    assert_eq!(
        col(s24, "Export", "SourceID").unwrap().ty,
        Ty::Str(Some(32))
    );
    assert_eq!(
        col(s26, "Export", "SourceID").unwrap().ty,
        Ty::Str(Some(350))
    );
    assert_eq!(
        col(s26, "Enrollment", "MentalHealthConsultation")
            .unwrap()
            .list,
        Some("V10")
    );
    assert!(
        s26.list("2.06.1").unwrap().contains(&"56") && !s24.list("2.06.1").unwrap().contains(&"56")
    );
    assert!(
        !col(s24, "Client", "SSN").unwrap().nullable || col(s24, "Client", "SSN").unwrap().nullable
    );
    assert!(!col(s24, "Client", "PersonalID").unwrap().nullable);
    assert_eq!(
        col(s24, "Exit", "Destination").unwrap().excluded,
        &["336", "335", "37"]
    );
}

/// FY2026's changed headers are exactly the ones in `FY2026.md` (when the sheets are there).
#[test]
fn fy2026_headers_match_the_document() {
    let Ok(md) = std::fs::read_to_string(sheets().join("FY2026.md")) else {
        eprintln!("../shared/hmis-csv-spec is absent: FY2026 headers not checked");
        return;
    };
    for file in ["Export", "Client", "Enrollment"] {
        let ours: Vec<&str> = Spec::get(Version::Fy2026)
            .file(file)
            .unwrap()
            .columns
            .iter()
            .map(|c| c.name)
            .collect();
        assert!(md.contains(&ours.join(",")), "{file}");
    }
}

// ---- fixtures ----------------------------------------------------------------------------

/// One row per file, every value valid, every key "1".
fn valid_set(v: Version) -> Vec<(String, Vec<Vec<String>>)> {
    let spec = Spec::get(v);
    spec.files
        .iter()
        .map(|f| {
            let header: Vec<String> = f.columns.iter().map(|c| c.name.to_string()).collect();
            let row: Vec<String> = f
                .columns
                .iter()
                .map(|c| {
                    let list_value = |l: &str| {
                        spec.list(l)
                            .unwrap()
                            .iter()
                            .find(|x| !c.excluded.contains(x))
                            .unwrap()
                            .to_string()
                    };
                    if c.name.ends_with("ID") || c.name == "HouseholdID" {
                        return "1".to_string();
                    }
                    if c.name == "CSVVersion" {
                        return if v == Version::Fy2026 {
                            "2026 v1.0"
                        } else {
                            "2024 v1.3"
                        }
                        .to_string();
                    }
                    if let Some(l) = c.list {
                        return list_value(l);
                    }
                    if !c.cond_lists.is_empty() {
                        return if c.nullable { "" } else { "1" }.to_string();
                    }
                    match c.ty {
                        Ty::Int => "1".into(),
                        Ty::Str(_) => "x".into(),
                        Ty::Date => "2024-01-31".into(),
                        Ty::Timestamp => "2024-01-31 13:45:00".into(),
                        Ty::Money { .. } => "10.50".into(),
                    }
                })
                .collect();
            // Services/Disabilities: the conditional lists follow RecordType / DisabilityType.
            let mut rows = vec![header, row];
            if f.name == "Services" {
                set_cell(&mut rows, "RecordType", "141");
                set_cell(&mut rows, "TypeProvided", "1");
            }
            if f.name == "Disabilities" {
                set_cell(&mut rows, "DisabilityType", "5");
                set_cell(&mut rows, "DisabilityResponse", "1");
            }
            (format!("{}.csv", f.name), rows)
        })
        .collect()
}

fn set_cell(rows: &mut [Vec<String>], column: &str, value: &str) {
    let i = rows[0].iter().position(|c| c == column).unwrap();
    rows[1][i] = value.to_string();
}

fn to_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

static N: AtomicUsize = AtomicUsize::new(0);

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "hearth-hmis-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_dir(files: &[(String, Vec<u8>)]) -> PathBuf {
    let d = temp_dir();
    for (n, b) in files {
        std::fs::write(d.join(n), b).unwrap();
    }
    d
}

fn bytes(set: Vec<(String, Vec<Vec<String>>)>) -> Vec<(String, Vec<u8>)> {
    set.into_iter().map(|(n, r)| (n, to_csv(&r))).collect()
}

fn check(files: &[(String, Vec<u8>)]) -> Report {
    let d = write_dir(files);
    let r = validate_path(&d, &Limits::default());
    std::fs::remove_dir_all(&d).unwrap();
    r
}

fn codes(r: &Report) -> Vec<(String, Option<u64>, Option<String>, &'static str)> {
    r.problems
        .iter()
        .map(|p| (p.file.clone(), p.line, p.column.clone(), p.code))
        .collect()
}

#[test]
fn a_valid_set_passes_in_both_versions() {
    for v in [Version::Fy2024, Version::Fy2026] {
        let r = check(&bytes(valid_set(v)));
        assert!(r.problems.is_empty(), "{v:?}: {:?}", codes(&r));
        assert_eq!(r.version, Some(v));
    }
}

/// Changes one file of a valid FY2024 set and expects `code` on (file, line, column).
fn expect(
    edit: impl FnOnce(&mut Vec<(String, Vec<Vec<String>>)>),
    file: &str,
    line: Option<u64>,
    column: Option<&str>,
    code: &str,
) {
    let mut set = valid_set(Version::Fy2024);
    edit(&mut set);
    let r = check(&bytes(set));
    let found = r.problems.iter().any(|p| {
        p.file == file && p.line == line && p.column.as_deref() == column && p.code == code
    });
    assert!(
        found,
        "{code} on {file}:{line:?} {column:?} not in {:?}",
        codes(&r)
    );
}

fn file<'a>(set: &'a mut [(String, Vec<Vec<String>>)], name: &str) -> &'a mut Vec<Vec<String>> {
    &mut set.iter_mut().find(|(n, _)| n == name).unwrap().1
}

#[test]
fn each_kind_of_cell_problem_is_found() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("Client.csv", "DOB", "01/31/2024", "bad_date"),
        ("Client.csv", "DOB", "2024-02-30", "bad_date"),
        (
            "Client.csv",
            "DateCreated",
            "2024-01-31T13:45:00",
            "bad_timestamp",
        ),
        ("Client.csv", "YearEnteredService", "19x0", "bad_integer"),
        ("Client.csv", "SSN", "1234567890", "too_long"),
        ("Client.csv", "VeteranStatus", "7", "not_in_list"),
        ("Client.csv", "NameDataQuality", "", "required_null"),
        ("Exit.csv", "Destination", "336", "excluded_code"),
        ("IncomeBenefits.csv", "EarnedAmount", "-5.00", "bad_money"),
        ("IncomeBenefits.csv", "EarnedAmount", "5.001", "bad_money"),
        ("Services.csv", "TypeProvided", "99", "not_in_list"),
        ("Enrollment.csv", "PersonalID", "2", "orphan_key"),
        ("Exit.csv", "EnrollmentID", "2", "orphan_key"),
        ("Project.csv", "OrganizationID", "2", "orphan_key"),
        ("Client.csv", "FirstName", "Ann\u{0}e", "nul_character"),
    ];
    for (f, col, value, code) in cases {
        expect(
            |s| set_cell(file(s, f), col, value),
            f,
            Some(2),
            Some(col),
            code,
        );
    }
    // Messages never carry the value.
    let mut s = valid_set(Version::Fy2024);
    set_cell(file(&mut s, "Client.csv"), "SSN", "SECRET12345");
    let r = check(&bytes(s));
    assert!(!r.problems.is_empty() && r.problems.iter().all(|p| !p.message.contains("SECRET")));
}

#[test]
fn each_kind_of_structure_problem_is_found() {
    // Duplicate primary key.
    expect(
        |s| {
            let r = file(s, "Client.csv");
            let row = r[1].clone();
            r.push(row);
        },
        "Client.csv",
        Some(3),
        Some("PersonalID"),
        "duplicate_key",
    );
    // Short and long rows.
    expect(
        |s| {
            file(s, "Client.csv")[1].pop();
        },
        "Client.csv",
        Some(2),
        None,
        "short_row",
    );
    expect(
        |s| file(s, "Client.csv")[1].push("x".into()),
        "Client.csv",
        Some(2),
        None,
        "long_row",
    );
    // Headers: unknown, duplicated, missing, case.
    expect(
        |s| file(s, "Client.csv")[0][1] = "FirstNam".into(),
        "Client.csv",
        Some(1),
        None,
        "unknown_header",
    );
    expect(
        |s| file(s, "Client.csv")[0][1] = "FirstNam".into(),
        "Client.csv",
        Some(1),
        Some("FirstName"),
        "missing_header",
    );
    expect(
        |s| file(s, "Client.csv")[0][2] = "FIRSTNAME".into(),
        "Client.csv",
        Some(1),
        Some("FirstName"),
        "duplicate_header",
    );
    expect(
        |s| file(s, "Client.csv")[0].swap(1, 2),
        "Client.csv",
        Some(1),
        None,
        "header_order",
    );
    // Export.csv: exactly one row; a different ExportID elsewhere is a warning.
    expect(
        |s| {
            let r = file(s, "Export.csv");
            r.pop();
        },
        "Export.csv",
        None,
        None,
        "export_rows",
    );
    expect(
        |s| set_cell(file(s, "Client.csv"), "ExportID", "2"),
        "Client.csv",
        Some(2),
        Some("ExportID"),
        "export_id_mismatch",
    );
    // A PersonalID that Exit.csv and Enrollment.csv disagree on.
    expect(
        |s| set_cell(file(s, "Exit.csv"), "PersonalID", "2"),
        "Exit.csv",
        Some(2),
        Some("PersonalID"),
        "personal_id_mismatch",
    );
    // An enrollment (or inventory) in a CoC its project has no ProjectCoC row for: a warning.
    expect(
        |s| set_cell(file(s, "Enrollment.csv"), "EnrollmentCoC", "ZZ-999"),
        "Enrollment.csv",
        Some(2),
        Some("EnrollmentCoC"),
        "coc_not_in_project",
    );
    expect(
        |s| set_cell(file(s, "Inventory.csv"), "CoCCode", "ZZ-999"),
        "Inventory.csv",
        Some(2),
        Some("CoCCode"),
        "coc_not_in_project",
    );
    // Missing files.
    expect(
        |s| s.retain(|(n, _)| n != "Export.csv"),
        "Export.csv",
        None,
        None,
        "missing_file",
    );
    expect(
        |s| s.retain(|(n, _)| n != "Event.csv"),
        "Event.csv",
        None,
        None,
        "missing_file",
    );
}

#[test]
fn case_bom_quoting_and_newlines_are_tolerated() {
    let mut set = valid_set(Version::Fy2024);
    let en = file(&mut set, "Enrollment.csv");
    let i = en[0].iter().position(|c| c == "HOHLeaseholder").unwrap();
    en[0][i] = "HoHLeaseholder".into();
    set_cell(
        file(&mut set, "Organization.csv"),
        "OrganizationName",
        "The \"Best\" Shelter,\r\nNorth",
    );
    // A second client after a quoted field with a newline: its line is counted physically.
    let c = file(&mut set, "Client.csv");
    let mut row = c[1].clone();
    row[0] = "2".into();
    c[1][2] = "a\nb".into();
    c.push(row);
    set_cell(file(&mut set, "Client.csv"), "ExportID", "1");
    let mut files = bytes(set);
    let client = files.iter_mut().find(|(n, _)| n == "Client.csv").unwrap();
    client.1.splice(0..0, *b"\xEF\xBB\xBF");
    // Client 2 gets a bad date: reported on physical line 4 (the header, two lines of row 1).
    let text = String::from_utf8(client.1.clone()).unwrap();
    let last = text.trim_end().rsplit("\r\n").next().unwrap().to_string();
    let bad = last.replace("2024-01-31,", "2024-13-31,");
    client.1 = text.replace(&last, &bad).into_bytes();
    let r = check(&files);
    let got = codes(&r);
    assert!(
        got.contains(&("Client.csv".into(), Some(1), None, "bom")),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "Enrollment.csv".into(),
            Some(1),
            Some("HOHLeaseholder".into()),
            "header_case"
        )),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.0 == "Client.csv" && p.1 == Some(4) && p.3 == "bad_date"),
        "{got:?}"
    );
    assert_eq!(
        r.problems
            .iter()
            .filter(|p| p.severity == super::Severity::Error)
            .count(),
        1,
        "{got:?}"
    );
}

#[test]
fn broken_quoting_is_found() {
    let cases: &[(&[u8], u64, &str)] = &[
        (b"1,a\"b,c\r\n", 2, "unquoted"),
        (b"1,\"ab\"c,d\r\n", 2, "after the closing quote"),
        (b"1,\"a\r\nb\"\"c\",d\r\n2,\"open,e\r\n", 4, "not closed"),
    ];
    for (row, line, what) in cases {
        let mut files = bytes(valid_set(Version::Fy2024));
        let org = files
            .iter_mut()
            .find(|(n, _)| n == "Organization.csv")
            .unwrap();
        let header_end = org.1.iter().position(|b| *b == b'\n').unwrap() + 1;
        org.1.truncate(header_end);
        org.1.extend_from_slice(row);
        let r = check(&files);
        let p = r
            .problems
            .iter()
            .find(|p| p.code == "bad_quoting")
            .unwrap_or_else(|| panic!("{what}: {:?}", codes(&r)));
        assert_eq!(
            (p.file.as_str(), p.line),
            ("Organization.csv", Some(*line)),
            "{what}"
        );
        assert!(p.message.contains(what), "{}", p.message);
    }
}

// ---- zips --------------------------------------------------------------------------------

fn write_zip(entries: &[(String, Vec<u8>)], method: zip::CompressionMethod) -> PathBuf {
    let path = temp_dir().join("export.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (n, b) in entries {
        z.start_file(n.as_str(), opts).unwrap();
        z.write_all(b).unwrap();
    }
    z.finish().unwrap();
    path
}

#[test]
fn a_zip_in_one_folder_passes() {
    let files: Vec<_> = bytes(valid_set(Version::Fy2026))
        .into_iter()
        .map(|(n, b)| (format!("export/{n}"), b))
        .collect();
    let p = write_zip(&files, zip::CompressionMethod::Deflated);
    let r = validate_path(&p, &Limits::default());
    assert!(r.problems.is_empty(), "{:?}", codes(&r));
    assert_eq!(r.version, Some(Version::Fy2026));
}

#[test]
fn unsafe_and_oversized_zips_are_refused() {
    let zipped = |name: &str| {
        write_zip(
            &[(name.to_string(), b"a,b\r\n".to_vec())],
            zip::CompressionMethod::Stored,
        )
    };
    for bad in ["../Client.csv", "a/../../Client.csv", "/etc/Client.csv"] {
        let r = validate_path(&zipped(bad), &Limits::default());
        assert_eq!(
            codes(&r).iter().map(|c| c.3).collect::<Vec<_>>(),
            ["zip_unsafe_name"],
            "{bad}"
        );
    }
    // Not a zip.
    let p = temp_dir().join("x.zip");
    std::fs::write(&p, b"PersonalID\r\n").unwrap();
    assert_eq!(
        codes(&validate_path(&p, &Limits::default()))[0].3,
        "not_a_zip"
    );
    // A highly compressible entry: refused by declared ratio, declared size, then actual size.
    let zeros = vec![(String::from("Client.csv"), vec![b'0'; 200_000])];
    let p = write_zip(&zeros, zip::CompressionMethod::Deflated);
    let small = Limits {
        ratio_floor_bytes: 10_000,
        max_ratio: 20,
        ..Limits::default()
    };
    assert_eq!(codes(&validate_path(&p, &small))[0].3, "zip_ratio");
    let tiny = Limits {
        max_entry_bytes: 100_000,
        ..Limits::default()
    };
    assert_eq!(codes(&validate_path(&p, &tiny))[0].3, "zip_too_large");
}

#[test]
fn bounded_reader_stops_at_the_cap() {
    use std::io::Read;
    let data = vec![0u8; 5000];
    let mut b = super::validate::bounded_for_test(&data[..], 1000, 10, Limits::default());
    let mut out = Vec::new();
    assert!(b.read_to_end(&mut out).is_err());
    let limits = Limits {
        ratio_floor_bytes: 100,
        max_ratio: 50,
        ..Limits::default()
    };
    let mut b = super::validate::bounded_for_test(&data[..], 10_000, 10, limits);
    assert!(b.read_to_end(&mut out).is_err());
    let mut b = super::validate::bounded_for_test(&data[..], 10_000, 1000, limits);
    assert!(b.read_to_end(&mut out).is_ok());
}

#[test]
fn export_dates_in_a_vendors_own_form_are_a_warning() {
    let mut s = valid_set(Version::Fy2026);
    set_cell(
        file(&mut s, "Export.csv"),
        "ExportDate",
        "11/30/2026 10:00 AM",
    );
    set_cell(file(&mut s, "Export.csv"), "ExportStartDate", "10/1/2025");
    let r = check(&bytes(s));
    assert!(!r.has_errors(), "{:#?}", r.problems);
    let warned: Vec<_> = codes(&r)
        .into_iter()
        .filter(|(f, ..)| f == "Export.csv")
        .map(|(_, _, c, code)| (c.unwrap_or_default(), code))
        .collect();
    assert!(
        warned.contains(&("ExportDate".into(), "bad_timestamp")),
        "{warned:?}"
    );
    assert!(
        warned.contains(&("ExportStartDate".into(), "bad_date")),
        "{warned:?}"
    );
}

#[test]
fn a_zip_written_with_backslashes_is_one_folder() {
    let files: Vec<_> = bytes(valid_set(Version::Fy2026))
        .into_iter()
        .map(|(n, b)| (format!("Vendor\\{n}"), b))
        .collect();
    let p = write_zip(&files, zip::CompressionMethod::Deflated);
    let r = validate_path(&p, &Limits::default());
    assert!(r.problems.is_empty(), "{:?}", codes(&r));
}

#[test]
fn a_file_twice_is_an_error_whichever_way_it_comes() {
    let one = bytes(valid_set(Version::Fy2026));
    let client = one
        .iter()
        .find(|(n, _)| n == "Client.csv")
        .unwrap()
        .1
        .clone();
    // In two folders of a zip, and in another letter case (the zip crate writes no zip with
    // one name twice; the reader treats that case as two folders).
    for extra in ["dup/Client.csv", "client.csv"] {
        let mut files = one.clone();
        files.push((extra.to_string(), client.clone()));
        let p = write_zip(&files, zip::CompressionMethod::Deflated);
        let r = validate_path(&p, &Limits::default());
        assert!(r.has_errors(), "{extra}");
        assert!(
            r.problems.iter().any(|p| p.code == "duplicate_file"),
            "{extra}: {:?}",
            codes(&r)
        );
    }
    // A directory whose names differ only in letter case.
    let mut files = one.clone();
    files.push(("CLIENT.csv".to_string(), client));
    let r = check(&files);
    assert!(r.problems.iter().any(|p| p.code == "duplicate_file"));
}

#[test]
fn an_unknown_csv_version_is_a_warning_and_the_columns_tell() {
    let mut set = valid_set(Version::Fy2026);
    set_cell(file(&mut set, "Export.csv"), "CSVVersion", "2022 v1.0");
    let r = check(&bytes(set));
    assert_eq!(r.version, Some(Version::Fy2026));
    assert!(!r.has_errors(), "{:?}", codes(&r));
    assert!(codes(&r).contains(&(
        "Export.csv".into(),
        Some(2),
        Some("CSVVersion".into()),
        "unknown_version"
    )));
}

#[test]
fn an_export_id_that_differs_is_said_once_per_file() {
    let mut set = valid_set(Version::Fy2024);
    let c = file(&mut set, "Client.csv");
    set_cell(c, "ExportID", "2");
    for i in 2..5 {
        let mut row = c[1].clone();
        row[0] = i.to_string();
        c.push(row);
    }
    let r = check(&bytes(set));
    let said: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.code == "export_id_mismatch")
        .map(|p| (p.file.as_str(), p.line))
        .collect();
    assert_eq!(said, [("Client.csv", Some(2))]);
}

/// The list of problems is capped; the verdict and the places of errors are not.
#[test]
fn an_error_after_the_listed_problems_still_fails_the_set() {
    let mut set = valid_set(Version::Fy2026);
    let s = file(&mut set, "Services.csv");
    let user = s[0].iter().position(|c| c == "UserID").unwrap();
    s[1][user] = "nobody".into();
    // 10,050 rows with a warning each (a user not exported), then one with a bad date.
    for i in 2..10_052 {
        let mut row = s[1].clone();
        row[0] = i.to_string();
        s.push(row);
    }
    let mut bad = s[1].clone();
    bad[0] = "bad".into();
    let date = s[0].iter().position(|c| c == "DateProvided").unwrap();
    bad[date] = "31/01/2024".into();
    s.push(bad);
    let r = check(&bytes(set));
    assert!(r.dropped > 0);
    assert!(r.problems.iter().all(|p| p.severity == Severity::Warning));
    assert!(r.has_errors());
    assert_eq!(r.errors, 1);
    assert_eq!(r.warnings, 10_052);
    assert_eq!(
        r.errors_at,
        [crate::hmis_csv::validate::ErrorAt {
            file: "Services.csv".into(),
            line: Some(10_053),
            column: Some("DateProvided".into()),
            code: "bad_date",
        }]
    );
}

#[test]
fn hud_dates_and_timestamps_are_read_in_their_one_layout() {
    use super::{parse_date, parse_timestamp};
    use chrono::NaiveDate;
    let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    assert_eq!(parse_date("2024-02-29"), Some(d));
    assert_eq!(
        parse_timestamp("2024-02-29 23:05:09"),
        d.and_hms_opt(23, 5, 9)
    );
    for bad in [
        "2023-02-29",
        "2024-2-29",
        "2024-02-9",
        "+024-02-29",
        "2024/02/29",
        "2024-02-29 ",
        "2024-13-01",
        "2024-00-10",
        "２０２４-02-29",
        "",
        "2024-02-2x",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    for bad in [
        "2024-02-29 24:00:00",
        "2024-02-29 23:60:00",
        "2024-02-29T23:05:09",
        "2024-02-29 23:05",
        "2024-02-29 23:05:0x",
        "2023-02-29 10:00:00",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad}");
    }
}
