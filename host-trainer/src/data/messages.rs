//! Labelled messages for a word classifier: a CSV file with a text column and a label
//! column (e.g. `data/spamassassin-train.csv`: `id,subject,text,label`). Fields may be
//! quoted and hold commas, quotes and line breaks (RFC 4180, as the `csv` crate reads it).
//!
//! Every row is one message (no merging of duplicates: two mails with the same text are
//! two mails). Bad rows (an empty text, an empty or malformed label, a label outside a
//! model's) are skipped and counted, as in [`crate::data::names`].

use std::path::Path;

use anyhow::{bail, Result};

use crate::data::csv_rows::CsvRows;
use crate::data::labelled::{check_label, label_names};
use crate::data::names::{read_text, shuffle, Names, Skipped};

/// Messages with their label.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Messages {
    /// The label names, sorted (or the model's, in its order); index = label id.
    pub labels: Vec<String>,
    /// The texts, in file order.
    pub texts: Vec<String>,
    /// Label id of each text.
    pub label: Vec<u16>,
    /// Rows read (excluding the header).
    pub rows: u64,
    /// Skipped rows.
    pub skipped: Vec<Skipped>,
}

impl Messages {
    /// Number of messages.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// Messages per label, in label order.
    pub fn per_label(&self) -> Vec<usize> {
        let mut n = vec![0; self.labels.len()];
        for &l in &self.label {
            n[l as usize] += 1;
        }
        n
    }

    /// Splits into (train, validation), stratified: of each label's messages,
    /// `round(val_frac · count)` go to validation, chosen by `seed`; both parts keep
    /// file order.
    pub fn split(&self, val_frac: f64, seed: u64) -> (Messages, Messages) {
        let mut in_val = vec![false; self.len()];
        for (l, _) in self.labels.iter().enumerate() {
            let mut idx: Vec<usize> = (0..self.len())
                .filter(|&i| self.label[i] as usize == l)
                .collect();
            shuffle(
                &mut idx,
                seed ^ (l as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
            );
            let n_val = ((idx.len() as f64) * val_frac).round() as usize;
            for &i in &idx[..n_val.min(idx.len())] {
                in_val[i] = true;
            }
        }
        let pick = |want: bool| {
            let idx: Vec<usize> = (0..self.len()).filter(|&i| in_val[i] == want).collect();
            self.subset(&idx)
        };
        (pick(false), pick(true))
    }

    /// The messages at `idx`, with the same labels.
    pub fn subset(&self, idx: &[usize]) -> Messages {
        Messages {
            labels: self.labels.clone(),
            texts: idx.iter().map(|&i| self.texts[i].clone()).collect(),
            label: idx.iter().map(|&i| self.label[i]).collect(),
            ..Messages::default()
        }
    }

    /// The messages as CSV with columns `text_column,label_column` (quoted where needed),
    /// readable again by [`load_messages`].
    pub fn to_csv(&self, text_column: &str, label_column: &str) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([text_column, label_column])?;
        for (text, &l) in self.texts.iter().zip(&self.label) {
            w.write_record([text.as_str(), self.labels[l as usize].as_str()])?;
        }
        Ok(String::from_utf8(w.into_inner()?)?)
    }

    /// Warning lines for the skipped rows (see [`Names::skip_report`]).
    pub fn skip_report(&self, file: &Path) -> Vec<String> {
        Names {
            skipped: self.skipped.clone(),
            ..Names::default()
        }
        .skip_report(file)
    }
}

/// Reads labelled messages from the CSV file `path`: columns `text_column` and
/// `label_column`. With `labels` (a model's), rows with other labels are skipped and
/// ids follow `labels`; otherwise the labels are the sorted distinct values.
pub fn load_messages(
    path: &Path,
    text_column: &str,
    label_column: &str,
    labels: Option<&[String]>,
) -> Result<Messages> {
    let text = read_text(path)?;
    let mut csv = CsvRows::new(&text, path)?;
    let text_col = csv.column(text_column)?;
    let label_col = csv.column(label_column)?;
    let mut out = Messages::default();
    let mut raw: Vec<(String, String)> = Vec::new();
    for row in csv.rows() {
        let row = row?;
        out.rows += 1;
        let text = row.field(text_col);
        let label = row.field(label_col).trim();
        match check(text, label, labels) {
            Ok(()) => raw.push((text.to_string(), label.to_string())),
            Err(reason) => out.skipped.push(Skipped {
                line: row.line,
                reason,
            }),
        }
    }
    let seen = raw.iter().map(|(_, l)| l.clone());
    out.labels = label_names(labels, seen, path, label_column)?;
    for (text, label) in raw {
        let id = out.labels.iter().position(|l| *l == label).unwrap_or(0);
        out.texts.push(text);
        out.label.push(id as u16);
    }
    if out.is_empty() {
        bail!(
            "{}: no usable messages ({} rows read, {} skipped)",
            path.display(),
            out.rows,
            out.skipped.len()
        );
    }
    Ok(out)
}

/// Checks one row's text and trimmed label.
fn check(text: &str, label: &str, labels: Option<&[String]>) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("empty text".into());
    }
    check_label(label, labels).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::csv_rows::temp_csv as file;

    #[test]
    fn quoted_fields_bad_rows_and_model_labels() {
        let p = file(
            "id,subject,text,label\n\
             1,hi,\"Hello, \"\"world\"\"\nsecond line\",ham\n\
             2,x,Buy now!,spam\n\
             3,x,   ,ham\n\
             4,x,no label,\n\
             5,x,\"a, b\",eggs\n",
        );
        let m = load_messages(&p, "text", "label", None).unwrap();
        assert_eq!(m.labels, vec!["eggs", "ham", "spam"]);
        assert_eq!(
            m.texts,
            vec!["Hello, \"world\"\nsecond line", "Buy now!", "a, b"]
        );
        assert_eq!(m.label, vec![1, 2, 0]);
        assert_eq!(m.rows, 5);
        let lines: Vec<u64> = m.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![5, 6]);
        let model = vec!["spam".to_string(), "ham".to_string()];
        let m = load_messages(&p, "text", "label", Some(&model)).unwrap();
        assert_eq!(m.label, vec![1, 0]);
        assert!(m.skipped[2].reason.contains("not one of the model's"));
        let e = load_messages(&p, "body", "label", None).unwrap_err();
        assert!(e.to_string().contains("no `body` column"), "{e}");
    }

    #[test]
    fn split_is_stratified_seeded_and_round_trips_as_csv() {
        let mut body = String::from("text,label\n");
        for i in 0..70 {
            body += &format!("\"ham {i}, fine\",ham\n");
        }
        for i in 0..30 {
            body += &format!("spam {i},spam\n");
        }
        let m = load_messages(&file(&body), "text", "label", None).unwrap();
        let (train, val) = m.split(0.1, 5);
        assert_eq!(
            (train.per_label(), val.per_label()),
            (vec![63, 27], vec![7, 3])
        );
        assert_eq!(val, m.split(0.1, 5).1);
        assert_ne!(val.texts, m.split(0.1, 6).1.texts);
        let back = load_messages(
            &file(&val.to_csv("text", "label").unwrap()),
            "text",
            "label",
            None,
        )
        .unwrap();
        assert_eq!((back.texts, back.label), (val.texts, val.label));
    }
}
