//! Labelled names for classification: a CSV file with a `name` column, a label column
//! (e.g. `gender`) and, optionally, a `count` column (births).
//!
//! A name may appear on several rows, one per label. Each distinct name takes the label
//! with the most births (rows without a `count` column count 1 each). A name whose top
//! labels tie has no majority and is left out, counted in [`Labelled::ties`]. Training is
//! per distinct name (every name once, whatever its births); the births per label are
//! kept so that evaluation can also report the accuracy weighted by births (the share of
//! people whose recorded label the model predicts).
//!
//! Bad rows (empty or overlong name, control character, empty label, unreadable count, a
//! character or label outside a model's) are skipped and counted, as in [`crate::data::names`].

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Result};
use micrornn::vocab::Vocab;

use crate::data::csv_rows::CsvRows;
use crate::data::names::{check_name, read_text, shuffle, Skipped};

/// Most distinct labels a classifier may have.
pub const MAX_LABELS: usize = 64;
/// Longest label name, in bytes.
pub const MAX_LABEL_LEN: usize = 24;

/// Distinct names with their majority label and their births per label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labelled {
    /// The label names, sorted (or the model's, in its order); index = label id.
    pub labels: Vec<String>,
    /// Distinct names with a majority label, in first-seen order.
    pub names: Vec<String>,
    /// Majority label id of each name.
    pub label: Vec<u16>,
    /// Births (or rows) per label of each name: `counts[i][label]`.
    pub counts: Vec<Vec<u64>>,
    /// Rows read (excluding the header).
    pub rows: u64,
    /// Skipped rows.
    pub skipped: Vec<Skipped>,
    /// Names left out because their top labels tie.
    pub ties: usize,
}

impl Labelled {
    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Splits into (train, validation) with `val_frac` of the names in validation, chosen
    /// by `seed` (the same names [`crate::data::names::split`] would choose for this name list).
    pub fn split(&self, val_frac: f64, seed: u64) -> (Labelled, Labelled) {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        shuffle(&mut idx, seed);
        let n_val = ((self.len() as f64) * val_frac).round() as usize;
        let n_val = n_val.min(self.len().saturating_sub(1));
        (self.subset(&idx[n_val..]), self.subset(&idx[..n_val]))
    }

    /// The names at `idx`, with the same labels.
    fn subset(&self, idx: &[usize]) -> Labelled {
        Labelled {
            labels: self.labels.clone(),
            names: idx.iter().map(|&i| self.names[i].clone()).collect(),
            label: idx.iter().map(|&i| self.label[i]).collect(),
            counts: idx.iter().map(|&i| self.counts[i].clone()).collect(),
            ..Labelled::default()
        }
    }

    /// The names as CSV rows `name,<label_column>,count`, one per name and label with
    /// births, readable again by [`load_labelled`] (fields quoted where CSV needs it: a
    /// name or label may hold a comma or a quote).
    pub fn to_csv(&self, label_column: &str) -> String {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        let _ = w.write_record(["name", label_column, "count"]);
        for (name, counts) in self.names.iter().zip(&self.counts) {
            for (label, &n) in self.labels.iter().zip(counts) {
                if n > 0 {
                    let _ = w.write_record([name, label, &n.to_string()]);
                }
            }
        }
        // Writing to memory does not fail, and every field is UTF-8.
        let bytes = w
            .into_inner()
            .map_err(|e| e.into_error())
            .unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// Reads labelled names from the CSV file `path`: columns `name` and `label_column`, and
/// `count` if the header has it. With `vocab`, names with other characters are skipped;
/// with `labels` (a model's), rows with other labels are skipped and ids follow `labels`.
pub fn load_labelled(
    path: &Path,
    label_column: &str,
    vocab: Option<&Vocab<'_>>,
    labels: Option<&[String]>,
) -> Result<Labelled> {
    let text = read_text(path)?;
    labelled_from_text(&text, path, label_column, vocab, labels)
}

/// As [`load_labelled`] for a CSV file's text already read; `path` only names the file in
/// messages.
pub fn labelled_from_text(
    text: &str,
    path: &Path,
    label_column: &str,
    vocab: Option<&Vocab<'_>>,
    labels: Option<&[String]>,
) -> Result<Labelled> {
    let mut csv = CsvRows::new(text, path)?;
    let name_col = csv.column("name")?;
    let label_col = csv.column(label_column)?;
    let count_col = csv.optional_column("count");
    let mut out = Labelled::default();
    // name -> births per label value, in first-seen order of names.
    let mut order: Vec<String> = Vec::new();
    let mut births: HashMap<String, HashMap<String, u64>> = HashMap::new();
    for rec in csv.rows() {
        let rec = rec?;
        let line = rec.line;
        out.rows += 1;
        let field = |col: usize| rec.field(col).trim();
        let row = check_name(field(name_col), vocab).and_then(|name| {
            let label = check_label(field(label_col), labels)?;
            let n = match count_col {
                Some(c) => parse_count(field(c))?,
                None => 1,
            };
            Ok((name, label, n))
        });
        match row {
            Ok((name, label, n)) => {
                let per_label = births.entry(name.to_string()).or_insert_with(|| {
                    order.push(name.to_string());
                    HashMap::new()
                });
                let total = per_label.entry(label.to_string()).or_insert(0);
                *total = total.saturating_add(n);
            }
            Err(reason) => out.skipped.push(Skipped { line, reason }),
        }
    }
    let seen = births.values().flat_map(|m| m.keys().cloned());
    out.labels = label_names(labels, seen, path, label_column)?;
    let id: HashMap<&str, usize> = out
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    for name in order {
        let mut counts = vec![0u64; out.labels.len()];
        for (label, &n) in &births[&name] {
            counts[id[label.as_str()]] += n;
        }
        let best = counts.iter().copied().max().unwrap_or(0);
        let mut top = counts.iter().enumerate().filter(|&(_, &n)| n == best);
        let (Some((first, _)), None) = (top.next(), top.next()) else {
            out.ties += 1;
            continue;
        };
        out.names.push(name);
        out.label.push(first as u16);
        out.counts.push(counts);
    }
    if out.names.is_empty() {
        bail!(
            "{}: no usable labelled names ({} rows read, {} skipped, {} tied)",
            path.display(),
            out.rows,
            out.skipped.len(),
            out.ties
        );
    }
    Ok(out)
}

/// The labels of a file read with the model's `labels` (as they are) or without (the
/// distinct values `seen` in `label_column`, sorted); an error if there are more than
/// [`MAX_LABELS`]. `path` only names the file in the error.
pub(crate) fn label_names(
    labels: Option<&[String]>,
    seen: impl IntoIterator<Item = String>,
    path: &Path,
    label_column: &str,
) -> Result<Vec<String>> {
    let names = match labels {
        Some(l) => l.to_vec(),
        None => {
            let mut l: Vec<String> = seen.into_iter().collect();
            l.sort_unstable();
            l.dedup();
            l
        }
    };
    if names.len() > MAX_LABELS {
        bail!(
            "{}: {} distinct values in column `{label_column}`, more than {MAX_LABELS} labels",
            path.display(),
            names.len()
        );
    }
    Ok(names)
}

/// Checks a trimmed label value (against the model's labels, if given).
pub(crate) fn check_label<'s>(
    label: &'s str,
    labels: Option<&[String]>,
) -> Result<&'s str, String> {
    if label.is_empty() {
        return Err("empty label".into());
    }
    if label.len() > MAX_LABEL_LEN || label.chars().any(|c| c.is_control() || c == ' ') {
        return Err(format!(
            "label {label:?} is not a word of at most {MAX_LABEL_LEN} bytes"
        ));
    }
    if let Some(known) = labels {
        if !known.iter().any(|k| k == label) {
            return Err(format!(
                "label {label:?} is not one of the model's ({})",
                known.join(", ")
            ));
        }
    }
    Ok(label)
}

/// Parses a births count.
fn parse_count(s: &str) -> Result<u64, String> {
    s.parse()
        .map_err(|_| format!("count {s:?} is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_rows::temp_csv as file;

    #[test]
    fn majority_by_count_ties_left_out_and_bad_rows_skipped() {
        let p = file(
            "name,gender,count\n\
             anna,F,10\nanna,M,3\n\
             kim,F,5\nkim,M,5\n\
             bob,M,7\n\
             lee,M,x\n\
             ,F,1\n\
             sam,,4\n\
             jo,M,2\njo,F,1\njo,M,2\n",
        );
        let d = load_labelled(&p, "gender", None, None).unwrap();
        assert_eq!(d.labels, vec!["F", "M"]);
        assert_eq!(d.names, vec!["anna", "bob", "jo"]);
        assert_eq!(d.label, vec![0, 1, 1]);
        assert_eq!(d.counts, vec![vec![10, 3], vec![0, 7], vec![1, 4]]);
        assert_eq!(d.ties, 1);
        assert_eq!(d.rows, 11);
        let lines: Vec<u64> = d.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![7, 8, 9]);
        assert!(d.skipped[0].reason.contains("\"x\" is not a whole number"));
        assert_eq!(d.skipped[2].reason, "empty label");
    }

    #[test]
    fn without_count_every_row_counts_one_and_model_labels_fix_the_ids() {
        let p = file("name,gender\nal,M\nal,F\nal,M\nzoe,F\nq,X\n");
        let labels = vec!["M".to_string(), "F".to_string()];
        let d = load_labelled(&p, "gender", None, Some(&labels)).unwrap();
        assert_eq!(d.names, vec!["al", "zoe"]);
        assert_eq!(d.label, vec![0, 1]);
        assert_eq!(d.counts, vec![vec![2, 1], vec![0, 1]]);
        assert!(d.skipped[0]
            .reason
            .contains("not one of the model's (M, F)"));
    }

    #[test]
    fn missing_label_column_is_an_error() {
        let p = file("name,count\nal,3\n");
        let e = load_labelled(&p, "gender", None, None).unwrap_err();
        assert!(e.to_string().contains("no `gender` column"), "{e}");
    }

    #[test]
    fn split_and_csv_round_trip() {
        let mut body = String::from("name,gender,count\n");
        for i in 0..50 {
            body += &format!("n{i},F,{}\nn{i},M,{}\n", i + 1, 50 - i);
        }
        let d = load_labelled(&file(&body), "gender", None, None).unwrap();
        let (train, val) = d.split(0.2, 3);
        assert_eq!((train.len(), val.len()), (40, 10));
        let back = load_labelled(&file(&val.to_csv("gender")), "gender", None, None).unwrap();
        assert_eq!(
            (back.names, back.label, back.counts),
            (val.names, val.label, val.counts)
        );
    }
}
