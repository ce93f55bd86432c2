//! The trainer's data readers on any text: names from CSV or plain text, labelled names
//! from CSV, with or without a model's vocabulary and labels.
//!
//! Input: one byte of choices (which reader, vocabulary, label column, model labels),
//! then the file's bytes. Nothing may panic; what is read must keep the readers' promises
//! (checked names, distinct, majority labels), and the labelled CSV the trainer writes for
//! its validation split must read back as the same data.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use micrornn::vocab::Vocab;
use micrornn_trainer::data::labelled::{labelled_from_text, Labelled, MAX_LABELS};
use micrornn_trainer::data::names::{names_from_text, Names, MAX_NAME_CHARS};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    // The readers take UTF-8 (a file that is not is refused before they run).
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let vocab = Vocab::new(" '-abcdefghijklmnopqrstuvwxyz").expect("a valid vocabulary");
    let vocab = (choice & 0x04 != 0).then_some(&vocab);
    let path = Path::new("fuzz.csv");
    match choice & 0x03 {
        0 | 1 => {
            if let Ok(n) = names_from_text(text, choice & 0x01 != 0, path, vocab) {
                check_names(&n, vocab);
            }
        }
        _ => {
            let column = ["gender", "label", "name", ""][(choice >> 3 & 3) as usize];
            let model_labels: Vec<String> = vec!["F".into(), "M".into(), "x y".into()];
            let labels = (choice & 0x20 != 0).then_some(&model_labels[..]);
            if let Ok(d) = labelled_from_text(text, path, column, vocab, labels) {
                check_labelled(&d, labels);
                // The validation split is written as CSV and read again by `eval` (for
                // two labels or more: training refuses fewer).
                let (train, val) = d.split(0.5, choice as u64);
                assert_eq!(train.len() + val.len(), d.len());
                if !val.is_empty() && d.labels.len() >= 2 {
                    let csv = val.to_csv(column);
                    let back = labelled_from_text(&csv, path, column, vocab, Some(&val.labels))
                        .unwrap_or_else(|e| panic!("{e:#}\n{csv}"));
                    assert_eq!(
                        (&back.names, &back.label, &back.counts),
                        (&val.names, &val.label, &val.counts),
                        "{csv}"
                    );
                }
            }
        }
    }
});

fn check_name(name: &str, vocab: Option<&Vocab<'_>>) {
    assert!(
        !name.is_empty() && name.chars().count() <= MAX_NAME_CHARS,
        "{name:?}"
    );
    assert!(
        name.trim() == name && !name.chars().any(char::is_control),
        "{name:?}"
    );
    if let Some(v) = vocab {
        assert!(name.chars().all(|c| v.token(c).is_ok()), "{name:?}");
    }
}

fn check_names(n: &Names, vocab: Option<&Vocab<'_>>) {
    assert!(!n.names.is_empty());
    let mut seen = std::collections::HashSet::new();
    for name in &n.names {
        check_name(name, vocab);
        assert!(seen.insert(name), "{name:?} twice");
    }
    assert!(n.rows >= n.names.len() as u64 + n.skipped.len() as u64);
    let _ = n.skip_report(Path::new("fuzz.csv"));
}

fn check_labelled(d: &Labelled, labels: Option<&[String]>) {
    assert!(!d.is_empty() && d.labels.len() <= MAX_LABELS);
    if let Some(l) = labels {
        assert_eq!(d.labels, l);
    }
    assert_eq!((d.label.len(), d.counts.len()), (d.len(), d.len()));
    for ((name, &label), counts) in d.names.iter().zip(&d.label).zip(&d.counts) {
        assert!(
            !name.is_empty() && !name.chars().any(char::is_control),
            "{name:?}"
        );
        assert_eq!(counts.len(), d.labels.len());
        let best = counts[label as usize];
        // The majority label, and the only one with that count (which may be 0: a name
        // whose rows all count 0 births).
        assert_eq!(counts.iter().filter(|&&c| c >= best).count(), 1, "{name:?}");
    }
}
