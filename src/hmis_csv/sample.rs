//! A generated HMIS CSV export of a chosen size that passes the validator and fills every file:
//! one organization and user, three projects (with their descriptor rows), `clients` clients
//! each with `stays` enrollments (in different projects) and a row in every enrollment-level
//! file per enrollment, every other enrollment exited.
//! For tests, the import benchmark and `hearth demo`. Names come from a short list; nothing is
//! anyone's data.

use super::{Column, FileSpec, Spec, Ty, Version};

/// The set: file names (`Client.csv`) and their bytes (CRLF, RFC 4180 quoting, no BOM).
pub fn generate(version: Version, clients: usize, coc: &str) -> Vec<(String, Vec<u8>)> {
    generate_with(version, clients, 1, coc)
}

/// As [`generate`], with `stays` enrollments per client (at least one).
pub fn generate_with(
    version: Version,
    clients: usize,
    stays: usize,
    coc: &str,
) -> Vec<(String, Vec<u8>)> {
    let stays = stays.max(1);
    let spec = Spec::get(version);
    spec.files
        .iter()
        .map(|fs| {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            w.write_record(fs.columns.iter().map(|c| c.name))
                .expect("in memory");
            for i in instances(fs.name, clients, stays) {
                w.write_record(row(spec, fs, i, stays, coc))
                    .expect("in memory");
            }
            (
                format!("{}.csv", fs.name),
                w.into_inner().expect("in memory"),
            )
        })
        .collect()
}

const PROJECTS: usize = 3;

/// Which instances a file has: 1-based client numbers (Client), enrollment numbers (client
/// `c`'s enrollments are `(c - 1) * stays + 1 ..= c * stays`), project numbers, or one row.
fn instances(file: &str, clients: usize, stays: usize) -> Vec<usize> {
    match file {
        "Export" | "Organization" | "User" => vec![1],
        "Project" | "Funder" | "ProjectCoC" | "Inventory" | "Affiliation" | "HMISParticipation"
        | "CEParticipation" => (1..=PROJECTS).collect(),
        "Client" => (1..=clients).collect(),
        "Exit" => (1..=clients * stays).filter(|i| i % 2 == 0).collect(),
        _ => (1..=clients * stays).collect(),
    }
}

fn per_project(file: &str) -> bool {
    matches!(
        file,
        "Project"
            | "Funder"
            | "ProjectCoC"
            | "Inventory"
            | "Affiliation"
            | "HMISParticipation"
            | "CEParticipation"
    )
}

/// The key of row `i` of `file`.
fn key(file: &str, i: usize) -> String {
    match file {
        "Export" => "EXP1".into(),
        "Organization" => "ORG1".into(),
        "User" => "U1".into(),
        _ => format!("{file}-{i}"),
    }
}

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Carlos", "Fatima", "John", "Olga", "Kwame", "Lucia",
];
const LAST: &[&str] = &[
    "Garcia", "Smith", "Okafor", "Chen", "Lopez", "Haddad", "Brown", "Ivanova", "Mensah", "Rossi",
];

fn row(spec: &Spec, fs: &'static FileSpec, i: usize, stays: usize, coc: &str) -> Vec<String> {
    // The project of a client-level row.
    let project = if per_project(fs.name) {
        i
    } else {
        (i - 1) % PROJECTS + 1
    };
    fs.columns
        .iter()
        .map(|c| {
            if c.name == fs.key {
                return key(fs.name, i);
            }
            if let Some(p) = fs.parents.iter().find(|p| p.column == c.name) {
                let n = match p.file {
                    "Project" => project,
                    "Export" | "Organization" | "User" => 1,
                    // The client of enrollment `i`.
                    "Client" if fs.name != "Client" => (i - 1) / stays + 1,
                    _ => i,
                };
                return key(p.file, n);
            }
            if let Some(v) = special(fs.name, c.name, i, coc, spec) {
                return v;
            }
            default_value(spec, c)
        })
        .collect()
}

fn special(file: &str, column: &str, i: usize, coc: &str, spec: &Spec) -> Option<String> {
    let v = match (file, column) {
        (_, "DateDeleted") => String::new(),
        (_, "CoCCode") | ("Enrollment", "EnrollmentCoC") => coc.to_string(),
        (_, "HouseholdID") => format!("H-{i}"),
        ("Export", "CSVVersion") => match spec.version {
            Version::Fy2026 => "2026 v1.0".into(),
            Version::Fy2024 => "2024 v1.3".into(),
        },
        ("Project", "ProjectName") => format!("Generated project {i}"),
        ("Project", "ProjectType") => ["1", "13", "4"][(i - 1) % 3].into(),
        ("Organization", "OrganizationName") => "Generated organization".into(),
        ("Client", "FirstName") => FIRST[i % FIRST.len()].into(),
        ("Client", "LastName") => LAST[(i / FIRST.len()) % LAST.len()].into(),
        ("Client", "MiddleName") | ("Client", "NameSuffix") => String::new(),
        // Shapes SSA issues (no group 00, no serial 0000): the import keeps what the API takes.
        ("Client", "SSN") => format!(
            "{:03}{:02}{:04}",
            101 + (i / (9_999 * 99)) % 500,
            (i / 9_999) % 99 + 1,
            i % 9_999 + 1
        ),
        ("Client", "DOB") => format!("{}-{:02}-{:02}", 1950 + i % 55, i % 12 + 1, i % 28 + 1),
        ("Client", "NameDataQuality" | "SSNDataQuality" | "DOBDataQuality") => "1".into(),
        ("Client", "AdditionalRaceEthnicity" | "DifferentIdentityText") => String::new(),
        ("Enrollment", "RelationshipToHoH") => "1".into(),
        ("Enrollment", "EntryDate") => format!("2024-01-{:02}", i % 28 + 1),
        ("Exit", "ExitDate") => format!("2024-06-{:02}", i % 28 + 1),
        ("Services", "RecordType") => "141".into(),
        ("Services", "TypeProvided") => "1".into(),
        ("Disabilities", "DisabilityType") => "5".into(),
        ("Disabilities", "DisabilityResponse") => "1".into(),
        _ => return None,
    };
    Some(v)
}

/// A value of the column's type and list (the first code the column may take).
fn default_value(spec: &Spec, c: &Column) -> String {
    if let Some(l) = c.list {
        if let Some(v) = spec
            .list(l)
            .and_then(|vals| vals.iter().find(|x| !c.excluded.contains(x)))
        {
            return v.to_string();
        }
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
}

/// The set as one zip (deflated), for an import.
pub fn zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (n, b) in files {
        z.start_file(n.as_str(), opts).expect("in memory");
        z.write_all(b).expect("in memory");
    }
    z.finish().expect("in memory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hmis_csv::{validate_path, Limits, Severity};

    /// The validator's report on `files`, written to a directory of their own (`name`).
    fn validated(name: &str, files: &[(String, Vec<u8>)]) -> crate::hmis_csv::Report {
        let dir = std::env::temp_dir().join(format!("hearth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (n, b) in files {
            std::fs::write(dir.join(n), b).unwrap();
        }
        let r = validate_path(&dir, &Limits::default());
        std::fs::remove_dir_all(&dir).unwrap();
        r
    }

    fn errors(r: &crate::hmis_csv::Report) -> Vec<&crate::hmis_csv::Problem> {
        r.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .collect()
    }

    #[test]
    fn a_generated_set_passes_the_validator_in_both_versions() {
        for v in [Version::Fy2024, Version::Fy2026] {
            let files = generate(v, 12, "XX-500");
            assert_eq!(files.len(), 24);
            let r = validated(&format!("sample-{v:?}"), &files);
            let errors = errors(&r);
            assert!(errors.is_empty(), "{v:?}: {errors:#?}");
            assert_eq!(r.version, Some(v));
        }
    }

    #[test]
    fn a_generated_set_with_two_stays_per_client_passes_the_validator() {
        let files = generate_with(Version::Fy2026, 5, 2, "XX-500");
        let lines = |name: &str| {
            let (_, b) = files.iter().find(|(n, _)| n == name).unwrap();
            String::from_utf8_lossy(b).lines().count() - 1
        };
        assert_eq!(lines("Client.csv"), 5);
        assert_eq!(lines("Enrollment.csv"), 10);
        assert_eq!(lines("Services.csv"), 10);
        assert_eq!(lines("Exit.csv"), 5);
        let r = validated("sample2", &files);
        let errors = errors(&r);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
