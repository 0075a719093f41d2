//! Reading the rows of a set of HMIS CSV files (a directory or a zip) for an import, after the
//! validator has reported on them: the same sources and zip limits, headers matched to HUD's
//! columns without regard to letter case, a UTF-8 byte order mark dropped, files inside one
//! folder of the zip found by name. Pure: files in, values out.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::validate::{DirSource, Source, ZipSource};
use super::{FileSpec, Limits, Report};

/// The files of one set.
pub struct FileSet {
    src: Box<dyn Source>,
    names: Vec<String>,
}

/// One data row: its physical line (the header is line 1) and its values by the spec's columns
/// (`None` for a column the file lacks or an empty cell).
#[derive(Debug, Clone)]
pub struct Row {
    pub line: u64,
    pub values: Vec<Option<String>>,
    pub file: &'static FileSpec,
}

impl Row {
    /// The value of the column named as in HUD's spec.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self.file.columns.iter().position(|c| c.name == column)?;
        self.values[i].as_deref()
    }
}

/// Opens a directory of `.csv` files or a `.zip` of them; `None` when the validator would have
/// refused the container itself (its report says why).
pub fn open_set(path: &Path, limits: &Limits) -> Option<FileSet> {
    let src: Box<dyn Source> = if path.is_dir() {
        let mut entries = HashMap::new();
        for e in std::fs::read_dir(path).ok()?.flatten() {
            if e.path().is_file() {
                entries.insert(e.file_name().to_string_lossy().into_owned(), e.path());
            }
        }
        Box::new(DirSource(entries))
    } else {
        let f = std::fs::File::open(path).ok()?;
        let mut ignored = Report::default();
        Box::new(ZipSource::new(f, limits, &mut ignored)?)
    };
    let names = src.names();
    Some(FileSet { src, names })
}

impl FileSet {
    fn find(&self, file: &str) -> Option<String> {
        self.names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&format!("{file}.csv")))
            .cloned()
    }

    /// Whether the set holds `file` (without `.csv`).
    pub fn has(&self, file: &str) -> bool {
        self.find(file).is_some()
    }

    /// Calls `each` with every data row of `fs`, in file order; a missing file has no rows. Stops
    /// at the first error `each` returns. Rows the CSV reader cannot read end the file (the
    /// validator reported them).
    pub fn rows<E>(
        &mut self,
        fs: &'static FileSpec,
        mut each: impl FnMut(Row) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(name) = self.find(fs.name) else {
            return Ok(());
        };
        let Ok(r) = self.src.open(&name) else {
            return Ok(());
        };
        let mut buf = BufReader::new(r);
        if buf.fill_buf().is_ok_and(|b| b.starts_with(b"\xEF\xBB\xBF")) {
            buf.consume(3);
        }
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(buf);
        let mut rec = csv::ByteRecord::new();
        if !matches!(rd.read_byte_record(&mut rec), Ok(true)) {
            return Ok(());
        }
        let pos: Vec<Option<usize>> = rec
            .iter()
            .map(|cell| {
                let h = String::from_utf8_lossy(cell);
                fs.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(h.trim()))
            })
            .collect();
        while let Ok(true) = rd.read_byte_record(&mut rec) {
            let line = rec.position().map_or(0, |p| p.line() + 1);
            let mut values = vec![None; fs.columns.len()];
            for (i, cell) in rec.iter().enumerate().take(pos.len()) {
                if let (Some(ci), Ok(v)) = (pos[i], std::str::from_utf8(cell)) {
                    if !v.is_empty() {
                        values[ci] = Some(v.to_string());
                    }
                }
            }
            each(Row {
                line,
                values,
                file: fs,
            })?;
        }
        Ok(())
    }
}
