//! Inputs that the fuzz targets (`fuzz/`, docs/fuzzing.md) found mishandled, each kept as
//! a test of the trainer's side.

use std::path::Path;

use micrornn_trainer::data::labelled::labelled_from_text;

/// `data_readers`: a labelled name holding a comma or a quote (a quoted CSV field) was
/// written unquoted into the validation split's CSV (`M.val.csv`), and read back as
/// another name with another label.
#[test]
fn a_labelled_name_with_a_comma_or_a_quote_survives_the_validation_csv() {
    let text = "name,gender,count\n\"o,neil\",M,4\n\"x\"\"y\",F,1\nann,F,2\n";
    let d = labelled_from_text(text, Path::new("t.csv"), "gender", None, None).unwrap();
    assert_eq!(d.names, ["o,neil", "x\"y", "ann"]);
    let csv = d.to_csv("gender");
    let back =
        labelled_from_text(&csv, Path::new("val.csv"), "gender", None, Some(&d.labels)).unwrap();
    assert_eq!(
        (back.names, back.label, back.counts, back.skipped.len()),
        (d.names, d.label, d.counts, 0),
        "{csv}"
    );
}
