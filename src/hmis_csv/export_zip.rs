//! Writes HMIS CSV files into a zip as a stream: one entry after another, each row encoded and
//! compressed as it comes, into any `Write` (no `Seek`: an HTTP body, a pipe). RFC 4180: fields
//! quoted only when they hold a comma, a quote, CR or LF, a quote doubled; CRLF after every
//! record; UTF-8 without a byte order mark; HUD's header for the version first.

use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use super::export_map::header;
use super::Version;

pub struct ExportWriter<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    version: Version,
    /// Rows written to the current file (header excluded).
    rows: u64,
    width: usize,
    line: Vec<u8>,
}

/// Appends `v` to `out` as one RFC 4180 field.
pub fn push_field(out: &mut Vec<u8>, v: &str) {
    if v.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push(b'"');
        for b in v.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(v.as_bytes());
    }
}

/// Appends one record (cells, commas, CRLF) to `out`.
pub fn push_record<'a>(out: &mut Vec<u8>, cells: impl Iterator<Item = &'a str>) {
    for (i, c) in cells.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, c);
    }
    out.extend_from_slice(b"\r\n");
}

/// The rows of one file, kept aside while another file is streamed, in an anonymous temporary
/// file (created 0600 and unlinked at once: nothing is left if the process dies, and no other
/// process can open it by name). Memory stays flat; the rows are copied into the zip by
/// `ExportWriter::append`.
pub struct Spool {
    file: BufWriter<File>,
    rows: u64,
    width: usize,
    line: Vec<u8>,
}

impl Spool {
    pub fn new(version: Version, file: &str) -> io::Result<Spool> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = std::env::temp_dir().join(format!(
            "hearth-export-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 16, f),
            rows: 0,
            width: header(version, file).len(),
            line: Vec::with_capacity(1024),
        })
    }

    pub fn row(&mut self, cells: &[String]) -> io::Result<()> {
        if cells.len() != self.width {
            return Err(io::Error::other("a row does not match its header"));
        }
        self.line.clear();
        push_record(&mut self.line, cells.iter().map(String::as_str));
        self.rows += 1;
        self.file.write_all(&self.line)
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }
}

impl<W: Write> ExportWriter<W> {
    pub fn new(out: W, version: Version) -> Self {
        ExportWriter {
            zip: ZipWriter::new_stream(out),
            version,
            rows: 0,
            width: 0,
            line: Vec::with_capacity(1024),
        }
    }

    /// Starts `<file>.csv` and writes its header.
    pub fn begin(&mut self, file: &str) -> io::Result<()> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1))
            .unix_permissions(0o644);
        self.zip
            .start_file(format!("{file}.csv"), options)
            .map_err(io::Error::other)?;
        let h = header(self.version, file);
        self.width = h.len();
        self.rows = 0;
        self.write_line(h.iter().copied())
    }

    fn write_line<'a>(&mut self, cells: impl Iterator<Item = &'a str>) -> io::Result<()> {
        self.line.clear();
        push_record(&mut self.line, cells);
        self.zip.write_all(&self.line)
    }

    /// Writes `<file>.csv` from a spool (its header first) and answers its rows.
    pub fn append(&mut self, file: &str, spool: Spool) -> io::Result<u64> {
        self.begin(file)?;
        let mut f = spool.file.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        io::copy(&mut f, &mut self.zip)?;
        self.rows = spool.rows;
        self.end()
    }

    /// One row, as many cells as the header.
    pub fn row(&mut self, cells: &[String]) -> io::Result<()> {
        if cells.len() != self.width {
            return Err(io::Error::other(format!(
                "a row of {} cells for a header of {}",
                cells.len(),
                self.width
            )));
        }
        self.rows += 1;
        self.write_line(cells.iter().map(String::as_str))
    }

    /// Rows written to the current file so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Ends the current file (its bytes are flushed into the stream) and answers its rows.
    pub fn end(&mut self) -> io::Result<u64> {
        self.zip.flush()?;
        Ok(self.rows)
    }

    /// Writes the zip's central directory and answers the sink.
    pub fn finish(self) -> io::Result<W> {
        let s = self.zip.finish().map_err(io::Error::other)?;
        Ok(s.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4180_quoting() {
        let mut out = Vec::new();
        for v in ["plain", "a,b", "say \"hi\"", "two\r\nlines", ""] {
            out.clear();
            push_field(&mut out, v);
            let s = String::from_utf8(out.clone()).unwrap();
            match v {
                "plain" => assert_eq!(s, "plain"),
                "a,b" => assert_eq!(s, "\"a,b\""),
                "say \"hi\"" => assert_eq!(s, "\"say \"\"hi\"\"\""),
                "two\r\nlines" => assert_eq!(s, "\"two\r\nlines\""),
                _ => assert_eq!(s, ""),
            }
        }
    }

    #[test]
    fn a_spooled_file_is_appended_after_its_header() {
        let mut spool = Spool::new(Version::Fy2024, "User").unwrap();
        let mut row = vec![String::new(); header(Version::Fy2024, "User").len()];
        row[0] = "u1".into();
        spool.row(&row).unwrap();
        spool.row(&row).unwrap();
        assert!(spool.row(&["x".to_string()]).is_err());
        let mut w = ExportWriter::new(Vec::new(), Version::Fy2024);
        assert_eq!(w.append("User", spool).unwrap(), 2);
        let bytes = w.finish().unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("User.csv").unwrap(), &mut s).unwrap();
        assert_eq!(s.matches("\r\nu1,").count(), 2);
        assert!(s.starts_with("UserID,"));
    }

    #[test]
    fn a_streamed_zip_reads_back_with_crlf_and_no_bom() {
        let mut w = ExportWriter::new(Vec::new(), Version::Fy2026);
        w.begin("User").unwrap();
        let mut row = vec![String::new(); header(Version::Fy2026, "User").len()];
        row[0] = "u,1".into();
        w.row(&row).unwrap();
        assert_eq!(w.end().unwrap(), 1);
        w.begin("Funder").unwrap();
        assert_eq!(w.end().unwrap(), 0);
        assert!(w.row(&["x".to_string()]).is_err());
        let bytes = w.finish().unwrap();
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name("User.csv").unwrap(), &mut s).unwrap();
        assert!(s.starts_with("UserID,UserFirstName,"));
        assert!(s.contains("\r\n\"u,1\","));
        assert!(s.ends_with("\r\n"));
        assert_eq!(s.matches('\n').count(), s.matches("\r\n").count());
        let mut f = String::new();
        std::io::Read::read_to_string(&mut z.by_name("Funder.csv").unwrap(), &mut f).unwrap();
        assert!(
            f.starts_with("FunderID,") && f.ends_with("\r\n") && f.matches("\r\n").count() == 1
        );
    }
}
