//! Checks a set of HMIS CSV files (a directory or a zip) against the spec. Each problem names the
//! file, line, column and a code; messages never carry a cell's value (values may be PII).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::{Column, FileSpec, Spec, Ty, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    /// 1-based physical line where the record starts (1 is the header).
    pub line: Option<u64>,
    pub column: Option<String>,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub version: Option<Version>,
    /// The first `MAX_PROBLEMS` problems, in the order found.
    pub problems: Vec<Problem>,
    /// Problems not kept once `MAX_PROBLEMS` were reported.
    pub dropped: u64,
    /// Every error found, listed or not: the verdict counts them all.
    pub errors: u64,
    /// Every warning found, listed or not.
    pub warnings: u64,
    /// Where every error is (listed or not): what an import skips or refuses.
    #[serde(skip)]
    pub errors_at: Vec<ErrorAt>,
}

/// Where an error is, without its message: kept for every error, however many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAt {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub code: &'static str,
}

const MAX_PROBLEMS: usize = 10_000;

impl Report {
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }

    fn push(
        &mut self,
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        code: &'static str,
        severity: Severity,
        message: impl Into<String>,
    ) {
        match severity {
            Severity::Error => {
                self.errors += 1;
                self.errors_at.push(ErrorAt {
                    file: file.to_string(),
                    line,
                    column: column.map(str::to_string),
                    code,
                });
            }
            Severity::Warning => self.warnings += 1,
        }
        if self.problems.len() >= MAX_PROBLEMS {
            self.dropped += 1;
            return;
        }
        self.problems.push(Problem {
            file: file.to_string(),
            line,
            column: column.map(str::to_string),
            code,
            severity,
            message: message.into(),
        });
    }

    fn error(
        &mut self,
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.push(file, line, column, code, Severity::Error, message);
    }

    fn warn(
        &mut self,
        file: &str,
        line: Option<u64>,
        column: Option<&str>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.push(file, line, column, code, Severity::Warning, message);
    }
}

/// Bounds on what a zip may expand to (zip-bomb safety).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    /// Per entry, declared and actual uncompressed bytes.
    pub max_entry_bytes: u64,
    /// All entries together, declared.
    pub max_total_bytes: u64,
    /// Uncompressed over compressed, checked once an entry passes `ratio_floor_bytes`.
    pub max_ratio: u64,
    pub ratio_floor_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100,
            max_entry_bytes: 2 << 30,
            max_total_bytes: 8 << 30,
            max_ratio: 200,
            ratio_floor_bytes: 1 << 20,
        }
    }
}

/// Validates a directory of `.csv` files or a `.zip` of them.
pub fn validate_path(path: &Path, limits: &Limits) -> Report {
    let mut report = Report::default();
    let name = path.display().to_string();
    if path.is_dir() {
        let mut entries = HashMap::new();
        match std::fs::read_dir(path) {
            Ok(rd) => {
                for e in rd.flatten() {
                    let fname = e.file_name().to_string_lossy().into_owned();
                    if e.path().is_file() {
                        entries.insert(fname, e.path());
                    }
                }
            }
            Err(e) => {
                report.error(
                    &name,
                    None,
                    None,
                    "unreadable",
                    format!("cannot read the directory: {}", e.kind()),
                );
                return report;
            }
        }
        let mut src = DirSource(entries);
        run(&mut src, &mut report);
    } else {
        match std::fs::File::open(path) {
            Ok(f) => {
                if let Some(mut src) = ZipSource::new(f, limits, &mut report) {
                    run(&mut src, &mut report);
                }
            }
            Err(e) => report.error(
                &name,
                None,
                None,
                "unreadable",
                format!("cannot open: {}", e.kind()),
            ),
        }
    }
    report
}

/// Where the files come from: names (as found) and a way to read one.
pub(super) trait Source {
    fn names(&self) -> Vec<String>;
    fn open(&mut self, name: &str) -> std::io::Result<Box<dyn Read + '_>>;
}

pub(super) struct DirSource(pub(super) HashMap<String, std::path::PathBuf>);

impl Source for DirSource {
    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
    fn open(&mut self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(std::fs::File::open(&self.0[name])?))
    }
}

pub(super) struct ZipSource {
    archive: zip::ZipArchive<std::fs::File>,
    /// File name (last path component) to entry index.
    entries: HashMap<String, usize>,
    limits: Limits,
}

impl ZipSource {
    pub(super) fn new(
        file: std::fs::File,
        limits: &Limits,
        report: &mut Report,
    ) -> Option<ZipSource> {
        let mut archive = match zip::ZipArchive::new(file) {
            Ok(a) => a,
            Err(_) => {
                report.error(
                    "(zip)",
                    None,
                    None,
                    "not_a_zip",
                    "the file is not a readable zip archive",
                );
                return None;
            }
        };
        if archive.len() > limits.max_entries {
            report.error(
                "(zip)",
                None,
                None,
                "zip_too_many_entries",
                format!("{} entries; at most {}", archive.len(), limits.max_entries),
            );
            return None;
        }
        let mut entries = HashMap::new();
        let mut folders = HashSet::new();
        let mut total: u64 = 0;
        for i in 0..archive.len() {
            let Ok(e) = archive.by_index_raw(i) else {
                report.error(
                    "(zip)",
                    None,
                    None,
                    "not_a_zip",
                    format!("entry {i} cannot be read"),
                );
                return None;
            };
            let Ok(raw) = e.name().map(|n| n.to_string()) else {
                report.error(
                    "(zip)",
                    None,
                    None,
                    "zip_unsafe_name",
                    "an entry name is not readable",
                );
                return None;
            };
            let unsafe_name = raw.starts_with('/')
                || raw.starts_with('\\')
                || raw.get(1..2) == Some(":")
                || raw.split(['/', '\\']).any(|c| c == "..")
                || e.enclosed_name().is_none();
            if unsafe_name {
                report.error(
                    "(zip)",
                    None,
                    None,
                    "zip_unsafe_name",
                    "an entry name is absolute or contains '..'",
                );
                return None;
            }
            if e.is_dir() {
                continue;
            }
            let size = e.size();
            total = total.saturating_add(size);
            if size > limits.max_entry_bytes || total > limits.max_total_bytes {
                report.error(
                    &raw,
                    None,
                    None,
                    "zip_too_large",
                    "declared uncompressed size is over the limit",
                );
                return None;
            }
            if size > limits.ratio_floor_bytes
                && size / e.compressed_size().max(1) > limits.max_ratio
            {
                report.error(
                    &raw,
                    None,
                    None,
                    "zip_ratio",
                    "declared compression ratio is over the limit",
                );
                return None;
            }
            // Some Windows tools write `\` between folder and file.
            let parts: Vec<&str> = raw.split(['/', '\\']).collect();
            let (folder, base) = (
                parts[..parts.len() - 1].join("/"),
                parts[parts.len() - 1].to_string(),
            );
            if base.starts_with('.') || folder.starts_with("__MACOSX") {
                continue;
            }
            folders.insert(folder);
            if entries.insert(base.clone(), i).is_some() {
                report.error(
                    &base,
                    None,
                    None,
                    "duplicate_file",
                    "the zip holds this file more than once (in different folders, or twice): \
                     which one to read is not clear",
                );
            }
        }
        if folders.len() > 1 {
            report.warn(
                "(zip)",
                None,
                None,
                "zip_folders",
                "files are spread over several folders; only file names are used",
            );
        }
        Some(ZipSource {
            archive,
            entries,
            limits: *limits,
        })
    }
}

impl Source for ZipSource {
    fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }
    fn open(&mut self, name: &str) -> std::io::Result<Box<dyn Read + '_>> {
        let e = self
            .archive
            .by_index(self.entries[name])
            .map_err(std::io::Error::other)?;
        let cap = e.size().min(self.limits.max_entry_bytes);
        let compressed = e.compressed_size().max(1);
        Ok(Box::new(Bounded {
            inner: e,
            read: 0,
            cap,
            compressed,
            limits: self.limits,
        }))
    }
}

/// Stops a zip entry at its declared size, the entry limit and the ratio limit, whatever the
/// compressed stream claims.
struct Bounded<R> {
    inner: R,
    read: u64,
    cap: u64,
    compressed: u64,
    limits: Limits,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.cap {
            return Err(std::io::Error::other(
                "zip entry expands beyond its declared size or the limit",
            ));
        }
        if self.read > self.limits.ratio_floor_bytes
            && self.read / self.compressed > self.limits.max_ratio
        {
            return Err(std::io::Error::other(
                "zip entry expands beyond the ratio limit",
            ));
        }
        Ok(n)
    }
}

/// Keys seen so far, per file (for duplicates and parent keys).
type Keys = HashMap<&'static str, HashSet<Box<str>>>;

/// What run() keeps across files.
#[derive(Default)]
struct State {
    keys: Keys,
    export_id: Option<Box<str>>,
    /// Enrollment.csv's PersonalID per EnrollmentID, to catch files that disagree.
    enrollment_person: HashMap<Box<str>, Box<str>>,
    /// ProjectCoC.csv's (ProjectID, CoCCode) pairs.
    project_cocs: HashSet<(Box<str>, Box<str>)>,
}

fn run(src: &mut dyn Source, report: &mut Report) {
    let names = src.names();
    let find = |file: &str| {
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&format!("{file}.csv")))
            .cloned()
    };
    let mut seen = HashSet::new();
    for n in &names {
        if !seen.insert(n.to_ascii_lowercase()) {
            report.error(
                n,
                None,
                None,
                "duplicate_file",
                "the set holds this file more than once (names differing only in letter case): \
                 which one to read is not clear",
            );
        }
    }
    let (version, known_version) = detect_version(src, find("Export"), find("Client"));
    report.version = Some(version);
    if !known_version {
        report.warn(
            "Export.csv",
            Some(2),
            Some("CSVVersion"),
            "unknown_version",
            "CSVVersion names neither FY2024 nor FY2026: the version is told by the columns",
        );
    }
    let spec = Spec::get(version);
    if find("Export").is_none() {
        report.error(
            "Export.csv",
            None,
            None,
            "missing_file",
            "Export.csv is required",
        );
    }
    for n in &names {
        let known = n
            .to_ascii_lowercase()
            .strip_suffix(".csv")
            .is_some_and(|b| spec.file(b).is_some());
        if !known {
            report.warn(
                n,
                None,
                None,
                "unknown_file",
                "not a file of the HMIS CSV format; ignored",
            );
        }
    }
    // Parents before children: Export and User first, then HUD's order.
    let mut order: Vec<&FileSpec> = spec
        .files
        .iter()
        .filter(|f| f.name == "Export" || f.name == "User")
        .collect();
    order.extend(
        spec.files
            .iter()
            .filter(|f| f.name != "Export" && f.name != "User"),
    );
    let mut state = State::default();
    for fs in order {
        let label = format!("{}.csv", fs.name);
        let Some(name) = find(fs.name) else {
            if fs.name != "Export" {
                report.warn(
                    &label,
                    None,
                    None,
                    "missing_file",
                    "file absent (treated as empty)",
                );
            }
            continue;
        };
        match src.open(&name) {
            Ok(r) => check_file(spec, fs, &label, r, &mut state, report),
            Err(e) => report.error(
                &label,
                None,
                None,
                "unreadable",
                format!("cannot read: {e}"),
            ),
        }
    }
}

/// The set's version, and whether Export.csv's `CSVVersion` named it (when it names neither,
/// the columns tell: FY2026's Client.csv has `Sex`).
fn detect_version(
    src: &mut dyn Source,
    export: Option<String>,
    client: Option<String>,
) -> (Version, bool) {
    let header_and_row = |r: Box<dyn Read + '_>| -> Option<(Vec<String>, Vec<String>)> {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::new(r.take(1 << 20)));
        let mut it = rd.records();
        let h: Vec<String> = it
            .next()?
            .ok()?
            .iter()
            .map(|s| s.trim_start_matches('\u{feff}').to_string())
            .collect();
        let row = it
            .next()
            .and_then(|r| r.ok())
            .map(|r| r.iter().map(str::to_string).collect())
            .unwrap_or_default();
        Some((h, row))
    };
    // Without Export.csv (an error of its own) there is nothing to name the version.
    let mut named = true;
    if let Some(n) = export {
        if let Some((h, row)) = src.open(&n).ok().and_then(header_and_row) {
            if let Some(i) = h.iter().position(|c| c.eq_ignore_ascii_case("CSVVersion")) {
                match row.get(i).map(|v| v.trim()) {
                    Some(v) if v.starts_with("2026") => return (Version::Fy2026, true),
                    Some(v) if v.starts_with("2024") => return (Version::Fy2024, true),
                    _ => named = false,
                }
            }
        }
    }
    if let Some(n) = client {
        if let Some((h, _)) = src.open(&n).ok().and_then(header_and_row) {
            if h.iter().any(|c| c.eq_ignore_ascii_case("Sex")) {
                return (Version::Fy2026, named);
            }
        }
    }
    (Version::Fy2024, named)
}

fn check_file(
    spec: &Spec,
    fs: &'static FileSpec,
    label: &str,
    r: Box<dyn Read + '_>,
    state: &mut State,
    report: &mut Report,
) {
    let mut buf = BufReader::new(QuoteCheck::new(r));
    match buf.fill_buf() {
        Ok(b) if b.starts_with(b"\xEF\xBB\xBF") => {
            buf.consume(3);
            report.warn(
                label,
                Some(1),
                None,
                "bom",
                "file starts with a UTF-8 byte order mark (tolerated)",
            );
        }
        Ok(_) => {}
        Err(e) => {
            report.error(label, None, None, "unreadable", format!("cannot read: {e}"));
            return;
        }
    }
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(buf);
    let mut rec = csv::ByteRecord::new();
    match rd.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => {
            report.error(
                label,
                Some(1),
                None,
                "missing_header",
                "file is empty (no header row)",
            );
            return;
        }
        Err(e) => {
            report.error(label, Some(1), None, "bad_csv", csv_message(&e));
            return;
        }
    }
    // Map each header cell to its spec column.
    let mut pos: Vec<Option<usize>> = Vec::new();
    let mut seen: Vec<bool> = vec![false; fs.columns.len()];
    for (i, cell) in rec.iter().enumerate() {
        let h = String::from_utf8_lossy(cell);
        let h = h.trim();
        match fs
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(h))
        {
            Some(ci) if seen[ci] => {
                report.error(
                    label,
                    Some(1),
                    Some(fs.columns[ci].name),
                    "duplicate_header",
                    format!("header cell {} repeats a column", i + 1),
                );
                pos.push(None);
            }
            Some(ci) => {
                if fs.columns[ci].name != h {
                    report.warn(
                        label,
                        Some(1),
                        Some(fs.columns[ci].name),
                        "header_case",
                        "header differs from HUD's spelling in letter case",
                    );
                }
                seen[ci] = true;
                pos.push(Some(ci));
            }
            None => {
                report.error(
                    label,
                    Some(1),
                    None,
                    "unknown_header",
                    format!("header cell {} is not a column of {}", i + 1, label),
                );
                pos.push(None);
            }
        }
    }
    for (ci, c) in fs.columns.iter().enumerate() {
        if !seen[ci] {
            report.error(
                label,
                Some(1),
                Some(c.name),
                "missing_header",
                "column missing from the header",
            );
        }
    }
    let in_order = pos
        .iter()
        .flatten()
        .zip(pos.iter().flatten().skip(1))
        .all(|(a, b)| a < b);
    if !in_order {
        report.warn(
            label,
            Some(1),
            None,
            "header_order",
            "columns are not in HUD's order",
        );
    }
    let width = pos.len();
    let col_at = |name: &str| {
        fs.columns
            .iter()
            .position(|c| c.name == name)
            .and_then(|ci| pos.iter().position(|p| *p == Some(ci)))
    };
    let key_at = col_at(fs.key);
    let parent_at: Vec<_> = fs.parents.iter().map(|p| (p, col_at(p.column))).collect();
    let (enrollment_at, person_at) = (col_at("EnrollmentID"), col_at("PersonalID"));
    let (project_at, coc_at) = (
        col_at("ProjectID"),
        match fs.name {
            "ProjectCoC" | "Inventory" => col_at("CoCCode"),
            "Enrollment" => col_at("EnrollmentCoC"),
            _ => None,
        },
    );
    let mut own_keys: HashSet<Box<str>> = HashSet::new();
    let mut rows = 0u64;
    let mut export_id_differs = false;
    loop {
        match rd.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line());
                report.error(label, line, None, "bad_csv", csv_message(&e));
                break;
            }
        }
        rows += 1;
        // csv counts the header's line as 0 here; physical lines are 1-based.
        let line = rec.position().map(|p| p.line() + 1);
        if rec.len() < width {
            report.error(
                label,
                line,
                None,
                "short_row",
                format!("{} fields; the header has {width}", rec.len()),
            );
        } else if rec.len() > width {
            report.error(
                label,
                line,
                None,
                "long_row",
                format!("{} fields; the header has {width}", rec.len()),
            );
        }
        let mut values: Vec<Option<&str>> = vec![None; fs.columns.len()];
        for (i, cell) in rec.iter().enumerate().take(width) {
            let Some(ci) = pos[i] else { continue };
            match std::str::from_utf8(cell) {
                Ok(v) => values[ci] = Some(v),
                Err(_) => report.error(
                    label,
                    line,
                    Some(fs.columns[ci].name),
                    "bad_utf8",
                    "value is not valid UTF-8",
                ),
            }
        }
        for (ci, c) in fs.columns.iter().enumerate() {
            if !seen[ci] {
                continue;
            }
            check_value(spec, fs, c, values[ci], &values, label, line, report);
        }
        if let Some(k) = key_at.and_then(|i| values_at(&rec, i)) {
            if !k.is_empty() && !own_keys.insert(k.into()) {
                report.error(
                    label,
                    line,
                    Some(fs.key),
                    "duplicate_key",
                    "primary key repeats an earlier row",
                );
            }
        }
        for (p, at) in &parent_at {
            let Some(v) = at.and_then(|i| values_at(&rec, i)) else {
                continue;
            };
            if v.is_empty() {
                continue;
            }
            if p.file == "Export" {
                if let Some(x) = state.export_id.as_deref() {
                    if x != v && !export_id_differs {
                        // Once per file: a vendor's file carries one ExportID in every row.
                        export_id_differs = true;
                        report.warn(
                            label,
                            line,
                            Some(p.column),
                            "export_id_mismatch",
                            "ExportID differs from Export.csv's (said once per file, at the \
                             first row where it does)",
                        );
                    }
                }
                continue;
            }
            if !state.keys.get(p.file).is_some_and(|s| s.contains(v)) {
                let msg = format!("no row of {}.csv has this {}", p.file, p.column);
                if p.warn_only {
                    report.warn(label, line, Some(p.column), "orphan_key", msg);
                } else {
                    report.error(label, line, Some(p.column), "orphan_key", msg);
                }
            }
        }
        let project = project_at.and_then(|i| values_at(&rec, i));
        let coc = coc_at.and_then(|i| values_at(&rec, i));
        if let (Some(p), Some(c)) = (project, coc) {
            let pair = (p.into(), c.into());
            if fs.name == "ProjectCoC" {
                state.project_cocs.insert(pair);
            } else if !p.is_empty() && !c.is_empty() && !state.project_cocs.contains(&pair) {
                report.warn(
                    label,
                    line,
                    coc_at.and_then(|i| pos[i]).map(|ci| fs.columns[ci].name),
                    "coc_not_in_project",
                    "no ProjectCoC.csv row has this CoC for this ProjectID",
                );
            }
        }
        let enrollment = enrollment_at.and_then(|i| values_at(&rec, i));
        let person = person_at.and_then(|i| values_at(&rec, i));
        if let (Some(e), Some(p)) = (enrollment, person) {
            if fs.name == "Enrollment" {
                state.enrollment_person.insert(e.into(), p.into());
            } else if state
                .enrollment_person
                .get(e)
                .is_some_and(|want| **want != *p)
            {
                report.error(
                    label,
                    line,
                    Some("PersonalID"),
                    "personal_id_mismatch",
                    "PersonalID differs from Enrollment.csv's for this EnrollmentID",
                );
            }
        }
        if fs.name == "Export" && rows == 1 {
            state.export_id = key_at.and_then(|i| values_at(&rec, i)).map(Into::into);
        }
    }
    if fs.name == "Export" && rows != 1 {
        report.error(
            label,
            None,
            None,
            "export_rows",
            format!("Export.csv has {rows} data rows; exactly 1 is required"),
        );
    }
    let quotes = rd.into_inner().into_inner();
    for (line, what) in quotes.finish() {
        report.error(label, Some(line), None, "bad_quoting", what);
    }
    // Keep the keys only of files others point to (memory grows with those, not with all rows).
    if spec
        .files
        .iter()
        .any(|f| f.parents.iter().any(|p| p.file == fs.name))
    {
        state.keys.insert(fs.name, own_keys);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Q {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Follows RFC 4180's quoting over the bytes as they are read (the csv crate is lenient about a
/// stray quote) and notes where it is broken, by physical line.
struct QuoteCheck<R> {
    inner: R,
    state: Q,
    line: u64,
    eof: bool,
    /// Where the last quoted field opened.
    opened: u64,
    found: Vec<(u64, &'static str)>,
}

impl<R> QuoteCheck<R> {
    fn new(inner: R) -> Self {
        QuoteCheck {
            inner,
            state: Q::FieldStart,
            line: 1,
            eof: false,
            opened: 0,
            found: Vec::new(),
        }
    }

    fn note(&mut self, what: &'static str) {
        if self.found.len() < 100 {
            self.found.push((self.line, what));
        }
    }

    /// The violations; an unterminated quote counts only once the input was read to its end.
    fn finish(mut self) -> Vec<(u64, &'static str)> {
        if self.eof && self.state == Q::Quoted {
            self.line = self.opened;
            self.note("a quoted field is not closed before the end of the file");
        }
        self.found
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.eof = true;
        }
        for &b in &buf[..n] {
            self.state = match (self.state, b) {
                (Q::Quoted, b'"') => Q::QuoteInQuoted,
                (Q::Quoted, _) => Q::Quoted,
                (Q::QuoteInQuoted, b'"') => Q::Quoted,
                (_, b'\n' | b'\r' | b',') => Q::FieldStart,
                (Q::FieldStart, b'"') => {
                    self.opened = self.line;
                    Q::Quoted
                }
                (Q::FieldStart | Q::Unquoted, _) if b == b'"' => {
                    self.note("a quote inside an unquoted field");
                    Q::Unquoted
                }
                (Q::QuoteInQuoted, _) => {
                    self.note("text after the closing quote of a field");
                    Q::Unquoted
                }
                (_, _) => Q::Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(n)
    }
}

fn values_at(rec: &csv::ByteRecord, i: usize) -> Option<&str> {
    rec.get(i).and_then(|c| std::str::from_utf8(c).ok())
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => format!("read error: {io}"),
        _ => "the CSV cannot be parsed".to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn check_value(
    spec: &Spec,
    fs: &FileSpec,
    c: &Column,
    v: Option<&str>,
    row: &[Option<&str>],
    label: &str,
    line: Option<u64>,
    report: &mut Report,
) {
    let col = Some(c.name);
    let v = match v {
        None | Some("") => {
            if !c.nullable && v.is_some() {
                report.error(label, line, col, "required_null", "a value is required");
            }
            return;
        }
        Some(v) => v,
    };
    if v.contains('\0') {
        report.error(
            label,
            line,
            col,
            "nul_character",
            "a value holds a NUL character, which cannot be stored",
        );
        return;
    }
    let ok = match c.ty {
        Ty::Int => is_int(v),
        Ty::Str(Some(n)) => v.chars().count() <= n as usize,
        Ty::Str(None) => true,
        Ty::Date => super::parse_date(v).is_some(),
        Ty::Timestamp => super::parse_timestamp(v).is_some(),
        Ty::Money { non_negative } => is_money(v) && !(non_negative && v.starts_with('-')),
    };
    if !ok {
        let (code, msg) = match c.ty {
            Ty::Int => ("bad_integer", "not an integer".to_string()),
            Ty::Str(n) => (
                "too_long",
                format!("longer than {} characters", n.unwrap_or(0)),
            ),
            Ty::Date => ("bad_date", "not a date YYYY-MM-DD".to_string()),
            Ty::Timestamp => (
                "bad_timestamp",
                "not a timestamp YYYY-MM-DD HH:MM:SS".to_string(),
            ),
            Ty::Money { .. } => ("bad_money", "not an amount of money".to_string()),
        };
        // Export.csv's dates describe the export, not anyone's data, and exporters in the field
        // write them in their own forms: a warning there, an error everywhere else.
        if label == "Export.csv" && matches!(c.ty, Ty::Date | Ty::Timestamp) {
            report.warn(
                label,
                line,
                col,
                code,
                format!("{msg} (Export.csv: tolerated)"),
            );
        } else {
            report.error(label, line, col, code, msg);
        }
        return;
    }
    if c.list.is_none() && c.cond_lists.is_empty() {
        return;
    }
    // An integer is looked up in its shortest form (`01` is `1`).
    let norm: std::borrow::Cow<str> = match c.ty {
        Ty::Int if (v.len() > 1 && v.starts_with('0')) || v.starts_with("-0") => v
            .parse::<i64>()
            .map(|i| i.to_string().into())
            .unwrap_or(v.into()),
        _ => v.into(),
    };
    let list = c.list.or_else(|| {
        c.cond_lists.iter().find_map(|cl| {
            let all = cl.when.iter().all(|(other, want)| {
                let ci = fs.columns.iter().position(|x| x.name == *other);
                let got = ci.and_then(|ci| row[ci]).unwrap_or("");
                match want.strip_prefix('!') {
                    Some(w) => got != w,
                    None => got == *want,
                }
            });
            all.then_some(cl.list)
        })
    });
    let Some(list) = list else { return };
    let Some(values) = spec.list_set(list) else {
        return;
    };
    if !values.contains(norm.as_ref()) {
        report.error(
            label,
            line,
            col,
            "not_in_list",
            format!("value is not in list {list}"),
        );
    } else if c.excluded.contains(&norm.as_ref()) {
        report.error(
            label,
            line,
            col,
            "excluded_code",
            format!("value of list {list} not allowed in this column"),
        );
    }
}

fn is_int(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    !d.is_empty() && d.len() <= 18 && d.bytes().all(|b| b.is_ascii_digit())
}

fn is_money(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = d.split_once('.').unwrap_or((d, ""));
    !int.is_empty()
        && int.len() <= 15
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && (frac.bytes().all(|b| b.is_ascii_digit()))
        && !(d.contains('.') && frac.is_empty())
}

#[cfg(test)]
pub(super) fn bounded_for_test<R: Read>(
    inner: R,
    cap: u64,
    compressed: u64,
    limits: Limits,
) -> impl Read {
    Bounded {
        inner,
        read: 0,
        cap,
        compressed,
        limits,
    }
}
