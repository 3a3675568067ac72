//! Line-by-line reading of a trace file (plain or gzip, told apart by the
//! gzip magic bytes rather than the file name), with line numbers, the
//! bad-row policy and the row limit in one place, so that each format file
//! only says how to read one row.

use super::error::ImportError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Longer lines are not rows of any format (real rows are at most a few
/// KiB): the cap keeps a file without line breaks, or a gzip bomb, from
/// filling memory one line at a time.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// Lines that are not data rows.
#[derive(Clone, Copy)]
pub(crate) enum Skip {
    /// Every non-blank line is data.
    Nothing,
    /// The first non-blank line is a header; it must start with this text.
    Header(&'static str),
    /// Lines starting with this character are comments (SWF's `;`).
    Comments(char),
}

pub(crate) struct Rows {
    file: String,
    reader: Box<dyn BufRead>,
    bytes: Vec<u8>,
    line: String,
    line_no: u64,
    skip: Skip,
    header_seen: bool,
    /// Data rows still allowed by the limit (`u64::MAX`: no limit).
    remaining: u64,
    skip_bad: bool,
    pub read: u64,
    pub skipped: u64,
}

impl Rows {
    pub fn open(
        path: &Path,
        skip: Skip,
        limit: Option<u64>,
        skip_bad: bool,
    ) -> Result<Rows, ImportError> {
        let file = path.display().to_string();
        let unreadable = |reason| ImportError::Unreadable {
            file: file.clone(),
            reason,
        };
        let mut raw = BufReader::new(File::open(path).map_err(unreadable)?);
        let gzip = raw
            .fill_buf()
            .map_err(unreadable)?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::new(MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(Rows {
            file,
            reader,
            bytes: Vec::new(),
            line: String::new(),
            line_no: 0,
            skip,
            header_seen: false,
            remaining: limit.unwrap_or(u64::MAX),
            skip_bad,
            read: 0,
            skipped: 0,
        })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The current row, without its line ending.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// Moves to the next data row; false at the end of the file or the limit.
    pub fn advance(&mut self) -> Result<bool, ImportError> {
        loop {
            if self.remaining == 0 || !self.read_line()? {
                return Ok(false);
            }
            let text = self.line.trim();
            if text.is_empty() {
                continue;
            }
            match self.skip {
                Skip::Comments(c) if text.starts_with(c) => continue,
                Skip::Header(first) if !self.header_seen => {
                    self.header_seen = true;
                    if !text.starts_with(first) {
                        return Err(self.error(format!(
                            "not the expected header (it should start with `{first}`)"
                        )));
                    }
                    continue;
                }
                _ => {}
            }
            self.remaining -= 1;
            self.read += 1;
            return Ok(true);
        }
    }

    fn read_line(&mut self) -> Result<bool, ImportError> {
        self.bytes.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut self.bytes)
            // Where it broke off: a cut-short gzip ends mid-line.
            .map_err(|reason| ImportError::Unreadable {
                file: format!("{}:{}", self.file, self.line_no + 1),
                reason,
            })?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        if n as u64 > MAX_LINE_BYTES {
            self.line = String::from_utf8_lossy(&self.bytes[..120]).into_owned();
            let message = format!("a line longer than {} MiB", MAX_LINE_BYTES >> 20);
            return Err(self.error(message));
        }
        // Many files end without one, but a cut-short download does too, and
        // then its last record may be cut in the middle of a number.
        if self.bytes.last() != Some(&b'\n') {
            super::warnings::warn(format!(
                "{}:{}: the last line has no line end: if the file was cut short, this record may be cut too",
                self.file, self.line_no
            ));
        }
        while matches!(self.bytes.last(), Some(b'\n' | b'\r')) {
            self.bytes.pop();
        }
        // A byte-order mark, as some editors write, is not part of the header.
        if self.line_no == 1 && self.bytes.starts_with(b"\xef\xbb\xbf") {
            self.bytes.drain(..3);
        }
        self.line.clear();
        match std::str::from_utf8(&self.bytes) {
            Ok(s) => self.line.push_str(s),
            Err(_) => {
                self.line.push_str(&String::from_utf8_lossy(&self.bytes));
                return Err(self.error("not UTF-8 text".to_string()));
            }
        }
        Ok(true)
    }

    /// A bad-row error at the current line.
    pub fn error(&self, message: String) -> ImportError {
        ImportError::bad_row(&self.file, self.line_no, message, &self.line)
    }

    /// A row's parse result: the value, `None` when it was bad and bad rows
    /// are skipped (counted), or the error naming file and line.
    pub fn check<T>(&mut self, parsed: Result<T, String>) -> Result<Option<T>, ImportError> {
        match parsed {
            Ok(v) => Ok(Some(v)),
            Err(_) if self.skip_bad => {
                self.skipped += 1;
                Ok(None)
            }
            Err(message) => Err(self.error(message)),
        }
    }
}

/// Splits a row on `sep` and trims each field (Bitbrains pads with tabs).
pub(crate) fn fields(line: &str, sep: char, expected: usize) -> Result<Vec<&str>, String> {
    let f: Vec<&str> = line.split(sep).map(str::trim).collect();
    if f.len() != expected {
        return Err(format!("expected {expected} fields, found {}", f.len()));
    }
    Ok(f)
}

pub(crate) fn parse_u64(text: &str, what: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("{what}: expected a whole number >= 0, found `{text}`"))
}

pub(crate) fn parse_i64(text: &str, what: &str) -> Result<i64, String> {
    text.parse()
        .map_err(|_| format!("{what}: expected a whole number, found `{text}`"))
}

/// A finite number >= 0.
pub(crate) fn parse_f64(text: &str, what: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{what}: expected a number >= 0, found `{text}`")),
    }
}

/// `value * unit`, rounded to the nearest integer: the one place where a
/// trace's decimal quantity becomes an integer amount. f64 arithmetic is
/// IEEE-exact and the same on every machine, so this is deterministic.
pub(crate) fn scaled(value: f64, unit: u64, what: &str) -> Result<u64, String> {
    let v = (value * unit as f64).round();
    if v >= u64::MAX as f64 {
        // 1e300 as written, not as its 301 digits.
        return Err(format!("{what}: {value:e} is too large"));
    }
    Ok(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_value_too_large_is_said_in_exponent_form() {
        let e = scaled(1e300, 1 << 30, "memory_request").unwrap_err();
        assert_eq!(e, "memory_request: 1e300 is too large");
    }

    /// Before, a line was read whole however long: a small gzip file of one
    /// endless line filled memory.
    #[test]
    fn a_line_past_the_cap_is_an_error_even_inside_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.csv.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(b"1,2\n").unwrap();
        let chunk = vec![b'9'; 1 << 20];
        for _ in 0..17 {
            gz.write_all(&chunk).unwrap();
        }
        gz.finish().unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
        let mut rows = Rows::open(&path, Skip::Nothing, None, true).unwrap();
        assert!(rows.advance().unwrap());
        assert_eq!(rows.line(), "1,2");
        let e = rows.advance().unwrap_err().to_string();
        assert!(
            e.contains("bomb.csv.gz:2: a line longer than 16 MiB"),
            "{e}"
        );
    }
}
