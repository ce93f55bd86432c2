//! The rows of a CSV file with a header, as the labelled-names ([`crate::data::labelled`])
//! and messages ([`crate::data::messages`]) readers take them: columns found by name in
//! the header, each row's line number, and one error line for an unreadable header, a
//! missing column or a malformed row.
//!
//! Rows may have more or fewer fields than the header (a missing field reads as empty);
//! fields may be quoted and hold commas, quotes and line breaks (RFC 4180, as the `csv`
//! crate reads it).

use std::path::Path;

use anyhow::{Context, Result};

use crate::data::names::column;

/// A CSV file's text with its header read; its rows follow with [`CsvRows::rows`].
pub(crate) struct CsvRows<'a> {
    reader: csv::Reader<&'a [u8]>,
    headers: csv::StringRecord,
    path: &'a Path,
}

/// One row: its line in the file (1 is the header) and its fields.
pub(crate) struct Row {
    /// Line of the file the row starts on.
    pub line: u64,
    record: csv::StringRecord,
}

impl Row {
    /// The field in column `col` as written (untrimmed), or `""` if the row is shorter.
    pub fn field(&self, col: usize) -> &str {
        self.record.get(col).unwrap_or("")
    }
}

impl<'a> CsvRows<'a> {
    /// Reads the header of `text`; `path` only names the file in errors
    /// (`path:1: cannot read the CSV header`).
    pub fn new(text: &'a str, path: &'a Path) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .with_context(|| format!("{}:1: cannot read the CSV header", path.display()))?
            .clone();
        Ok(CsvRows {
            reader,
            headers,
            path,
        })
    }

    /// Index of the column named `name` (header fields are trimmed); an error naming the
    /// columns there are if the header has none.
    pub fn column(&self, name: &str) -> Result<usize> {
        column(&self.headers, name, self.path)
    }

    /// Index of the column named `name`, if the header has one.
    pub fn optional_column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h.trim() == name)
    }

    /// The rows after the header, in file order; a malformed row is an error
    /// (`path: malformed CSV`) and should end the reading.
    pub fn rows(&mut self) -> impl Iterator<Item = Result<Row>> + use<'_, 'a> {
        let path = self.path;
        self.reader.records().map(move |rec| {
            let record = rec.with_context(|| format!("{}: malformed CSV", path.display()))?;
            let line = record.position().map_or(0, |p| p.line());
            Ok(Row { line, record })
        })
    }
}

/// For tests: a temporary `.csv` file holding `body`, removed when dropped.
#[cfg(test)]
pub(crate) fn temp_csv(body: &str) -> tempfile::TempPath {
    use std::io::Write;
    let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    f.write_all(body.as_bytes()).unwrap();
    f.into_temp_path()
}
