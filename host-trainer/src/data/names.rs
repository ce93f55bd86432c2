//! Loading names from a CSV file (a `name` column) or a plain text file (one per line).
//!
//! Bad rows are skipped and counted, never fatal: an empty name, a control character,
//! a name longer than [`MAX_NAME_CHARS`], or (with a fixed vocabulary) a character
//! outside it. The first few are reported with their line numbers. An unreadable file
//! or a CSV file without a `name` column is an error.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use micrornn::vocab::Vocab;

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// How many skipped rows are described one by one.
const REPORTED_SKIPS: usize = 5;

/// A row that was skipped, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number in the file.
    pub line: u64,
    /// Why it was skipped.
    pub reason: String,
}

/// The distinct names of a file, in first-seen order, with what was skipped.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Distinct names.
    pub names: Vec<String>,
    /// Rows read (excluding a CSV header).
    pub rows: u64,
    /// Skipped rows (all of them).
    pub skipped: Vec<Skipped>,
}

impl Names {
    /// One line per skipped row, for the first few, then a count of the rest; empty if none.
    pub fn skip_report(&self, file: &Path) -> Vec<String> {
        let mut out: Vec<String> = self
            .skipped
            .iter()
            .take(REPORTED_SKIPS)
            .map(|s| format!("{}:{}: skipped: {}", file.display(), s.line, s.reason))
            .collect();
        if self.skipped.len() > REPORTED_SKIPS {
            out.push(format!(
                "{}: skipped {} rows in all ({} more not shown)",
                file.display(),
                self.skipped.len(),
                self.skipped.len() - REPORTED_SKIPS
            ));
        }
        out
    }
}

/// Reads the names of `path`. A `.csv` file must have a header with a `name` column;
/// anything else is read as one name per line. With `vocab`, names holding a character
/// outside it are skipped.
pub fn load_names(path: &Path, vocab: Option<&Vocab<'_>>) -> Result<Names> {
    let text = read_text(path)?;
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    names_from_text(&text, is_csv, path, vocab)
}

/// As [`load_names`] for a file's text already read: CSV (`is_csv`) or one name per line;
/// `path` only names the file in messages.
pub fn names_from_text(
    text: &str,
    is_csv: bool,
    path: &Path,
    vocab: Option<&Vocab<'_>>,
) -> Result<Names> {
    let mut out = Names::default();
    let mut seen = HashSet::new();
    let mut take = |line: u64, raw: &str, out: &mut Names| {
        out.rows += 1;
        match check_name(raw.trim(), vocab) {
            Ok(name) => {
                if seen.insert(name.to_string()) {
                    out.names.push(name.to_string());
                }
            }
            Err(reason) => out.skipped.push(Skipped { line, reason }),
        }
    };
    if is_csv {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .with_context(|| format!("{}:1: cannot read the CSV header", path.display()))?;
        let col = column(headers, "name", path)?;
        for rec in rdr.records() {
            let rec = rec.with_context(|| format!("{}: malformed CSV", path.display()))?;
            let line = rec.position().map_or(0, |p| p.line());
            take(line, rec.get(col).unwrap_or(""), &mut out);
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            take(i as u64 + 1, line, &mut out);
        }
    }
    if out.names.is_empty() {
        bail!(
            "{}: no usable names ({} rows read, {} skipped)",
            path.display(),
            out.rows,
            out.skipped.len()
        );
    }
    Ok(out)
}

/// Reads a whole file as UTF-8; an invalid byte is reported with its line number.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(text).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        anyhow::anyhow!("{}:{line}: not valid UTF-8", path.display())
    })
}

/// The index of column `name` in a CSV header, or an error listing the columns.
pub(crate) fn column(headers: &csv::StringRecord, name: &str, path: &Path) -> Result<usize> {
    match headers.iter().position(|h| h.trim() == name) {
        Some(col) => Ok(col),
        None => {
            let cols: Vec<&str> = headers.iter().collect();
            bail!(
                "{}:1: no `{name}` column in the CSV header (columns: {})",
                path.display(),
                cols.join(", ")
            )
        }
    }
}

/// Checks one trimmed name; returns it or why it is refused.
pub(crate) fn check_name<'s>(name: &'s str, vocab: Option<&Vocab<'_>>) -> Result<&'s str, String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!("control character {c:?}"));
    }
    let n = name.chars().count();
    if n > MAX_NAME_CHARS {
        return Err(format!("{n} characters, longer than {MAX_NAME_CHARS}"));
    }
    if let Some(v) = vocab {
        if let Some(c) = name.chars().find(|&c| v.token(c).is_err()) {
            return Err(format!(
                "character {c:?} of {name:?} is not in the model's vocabulary"
            ));
        }
    }
    Ok(name)
}

/// The sorted distinct characters of `names`, as the vocabulary string.
pub fn vocab_chars(names: &[String]) -> String {
    let mut chars: Vec<char> = names.iter().flat_map(|n| n.chars()).collect();
    chars.sort_unstable();
    chars.dedup();
    chars.into_iter().collect()
}

/// Token sequence of a name: `(inputs, targets)` = `([START, c1..cn], [c1..cn, END])`.
pub fn encode(name: &str, vocab: &Vocab<'_>) -> (Vec<u16>, Vec<u16>) {
    let mut inputs = vec![micrornn::vocab::START];
    for c in name.chars() {
        inputs.push(
            vocab
                .token(c)
                .expect("names are checked against the vocabulary"),
        );
    }
    let mut targets = inputs[1..].to_vec();
    targets.push(micrornn::vocab::END);
    (inputs, targets)
}

/// Splits `names` into (train, validation) with `val_frac` of them in validation,
/// chosen by `seed`.
pub fn split(names: &[String], val_frac: f64, seed: u64) -> (Vec<String>, Vec<String>) {
    let mut idx: Vec<usize> = (0..names.len()).collect();
    shuffle(&mut idx, seed);
    let n_val = ((names.len() as f64) * val_frac).round() as usize;
    let n_val = n_val.min(names.len().saturating_sub(1));
    let val = idx[..n_val].iter().map(|&i| names[i].clone()).collect();
    let train = idx[n_val..].iter().map(|&i| names[i].clone()).collect();
    (train, val)
}

/// Fisher–Yates shuffle driven by the crate's seeded generator.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut rng = micrornn::rng::Rng::new(seed);
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(name: &str, body: &str) -> tempfile::TempPath {
        let mut f = tempfile::Builder::new().suffix(name).tempfile().unwrap();
        f.write_all(body.as_bytes()).unwrap();
        f.into_temp_path()
    }

    #[test]
    fn reads_csv_name_column_and_dedupes() {
        let p = file(
            ".csv",
            "name,gender,count\nanna,F,10\nbob,M,3\nanna,M,1\n,F,2\n",
        );
        let n = load_names(&p, None).unwrap();
        assert_eq!(n.names, vec!["anna", "bob"]);
        assert_eq!(n.rows, 4);
        assert_eq!(
            n.skipped,
            vec![Skipped {
                line: 5,
                reason: "empty name".into()
            }]
        );
    }

    #[test]
    fn csv_without_name_column_is_an_error() {
        let p = file(".csv", "first,gender\nanna,F\n");
        let e = load_names(&p, None).unwrap_err().to_string();
        assert!(
            e.contains(":1: no `name` column") && e.contains("first, gender"),
            "{e}"
        );
    }

    #[test]
    fn plain_text_with_vocab_skips_unknown_characters() {
        let p = file(".txt", "abc\nabz\n\nba\n");
        let v = Vocab::new("abc").unwrap();
        let n = load_names(&p, Some(&v)).unwrap();
        assert_eq!(n.names, vec!["abc", "ba"]);
        assert_eq!(n.skipped.len(), 2);
        assert_eq!(n.skipped[0].line, 2);
        assert!(n.skipped[0].reason.contains("'z'"));
        assert_eq!(n.skipped[1].line, 3);
        let report = n.skip_report(Path::new("x.txt"));
        assert_eq!(
            report[0],
            "x.txt:2: skipped: character 'z' of \"abz\" is not in the model's vocabulary"
        );
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let e = load_names(Path::new("/no/such/names.csv"), None).unwrap_err();
        assert!(
            format!("{e:#}").contains("cannot read /no/such/names.csv"),
            "{e:#}"
        );
    }

    #[test]
    fn vocab_encode_and_split() {
        let names: Vec<String> = ["bca", "ab", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(vocab_chars(&names), "abc");
        let v = Vocab::new("abc").unwrap();
        assert_eq!(encode("ab", &v), (vec![0, 2, 3], vec![2, 3, 1]));
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let (t, val) = split(&many, 0.1, 5);
        assert_eq!((t.len(), val.len()), (90, 10));
        assert_eq!(split(&many, 0.1, 5).1, val);
        assert_ne!(split(&many, 0.1, 6).1, val);
    }
}
