//! `micrornn import` and `micrornn export --format safetensors`, run as a user runs them:
//! every PyTorch fixture imports, its model works with the other commands, and export →
//! import → export gives the same bytes; bad files are one clean error line.

use std::path::{Path, PathBuf};

mod common;
use common::{assert_clean_error, fresh_tmp_dir, micrornn, repo_path, s, stderr, stdout};

/// `micrornn ARGS`: asserts success and returns stdout.
fn ok(args: &[&str]) -> String {
    let o = micrornn(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Asserts a clean failure of `micrornn ARGS`: exit code 1, one `error:` line naming
/// `needle`, no panic.
fn clean_error(args: &[&str], needle: &str) {
    let o = micrornn(args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
    assert_clean_error(&o, needle);
}

fn fixtures() -> PathBuf {
    repo_path("tests/fixtures/torch")
}

/// A fresh folder `name` for one test.
fn tmp(name: &str) -> PathBuf {
    fresh_tmp_dir(Path::new("torch_cli").join(name))
}

#[test]
fn every_fixture_imports_and_round_trips_byte_identically() {
    let dir = tmp("round_trip");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    for f in expected["fixtures"].as_array().unwrap() {
        let file = fixtures().join(f["file"].as_str().unwrap());
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        let m1 = dir.join(format!("{stem}.mrnn"));
        let (start, end) = (f["start"].to_string(), f["end"].to_string());
        let mut args = vec!["import", "--from", s(&file), "--out", s(&m1)];
        if !f["metadata"].as_bool().unwrap() {
            let chars = f["chars"].as_str().unwrap();
            args.extend(["--chars", chars, "--start", &start, "--end", &end]);
        }
        let out = ok(&args);
        assert!(
            out.contains(&format!(
                "{}, {} layer(s)",
                f["cell"].as_str().unwrap(),
                f["layers"]
            )),
            "{out}"
        );
        let st1 = dir.join(format!("{stem}.1.safetensors"));
        let st2 = dir.join(format!("{stem}.2.safetensors"));
        let m2 = dir.join(format!("{stem}.2.mrnn"));
        let ck1 = m1.with_extension("ckpt");
        ok(&[
            "export",
            "--model",
            s(&ck1),
            "--out",
            s(&st1),
            "--format",
            "safetensors",
        ]);
        ok(&["import", "--from", s(&st1), "--out", s(&m2)]);
        ok(&[
            "export",
            "--model",
            s(&m2.with_extension("ckpt")),
            "--out",
            s(&st2),
            "--format",
            "safetensors",
        ]);
        let (a, b) = (std::fs::read(&st1).unwrap(), std::fs::read(&st2).unwrap());
        assert!(a == b, "{stem}: export → import → export changed the bytes");
        assert_eq!(
            std::fs::read(&m1).unwrap(),
            std::fs::read(&m2).unwrap(),
            "{stem}: the int8 model changed through safetensors"
        );
    }
}

#[test]
fn an_imported_model_works_with_the_other_commands() {
    let dir = tmp("commands");
    let m = dir.join("lstm.mrnn");
    let from = fixtures().join("lstm2_emb.safetensors");
    ok(&["import", "--from", s(&from), "--out", s(&m)]);
    let val = fixtures().join("val.txt");
    for model in [m.clone(), m.with_extension("ckpt")] {
        let out = ok(&["eval", "--model", s(&model), "--data", s(&val)]);
        assert!(out.contains("nll         2.3"), "{out}");
    }
    let names = ok(&["generate", "--model", s(&m), "-n", "3", "--seed", "1"]);
    assert_eq!(names.lines().count(), 3, "{names}");
    ok(&[
        "export",
        "--model",
        s(&m),
        "--board",
        "pico",
        "--out",
        s(&dir.join("m.uf2")),
    ]);
    let clf = dir.join("clf.mrnn");
    ok(&[
        "import",
        "--from",
        s(&fixtures().join("gru1_emb_classify.safetensors")),
        "--out",
        s(&clf),
    ]);
    let out = ok(&["classify", "--model", s(&clf), "emma", "james"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn bad_files_and_flags_are_one_clean_error() {
    let dir = tmp("errors");
    let out = dir.join("x.mrnn");
    let good = std::fs::read(fixtures().join("gru2_emb.safetensors")).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty", vec![], "shorter than the 8-byte"),
        ("truncated", good[..good.len() - 3].to_vec(), "outside"),
        (
            "long_header",
            [&[255u8, 255, 0, 0, 0, 0, 0, 0][..], &good[8..]].concat(),
            "past the end",
        ),
        (
            "bad_json",
            [&good[..8], b"{\"a\": nope", &good[18..]].concat(),
            "not JSON",
        ),
    ];
    for (name, bytes, needle) in cases {
        let p = dir.join(format!("{name}.safetensors"));
        std::fs::write(&p, bytes).unwrap();
        clean_error(&["import", "--from", s(&p), "--out", s(&out)], needle);
    }
    let no_vocab = fixtures().join("rnn1_emb.safetensors");
    clean_error(
        &["import", "--from", s(&no_vocab), "--out", s(&out)],
        "--chars",
    );
    clean_error(
        &[
            "import",
            "--from",
            s(&no_vocab),
            "--out",
            s(&out),
            "--chars",
            "abc",
            "--start",
            "3",
            "--end",
            "4",
        ],
        "28 token ids",
    );
    clean_error(
        &[
            "import",
            "--from",
            s(&fixtures().join("gru2_emb.safetensors")),
            "--out",
            s(&out),
            "--cell",
            "lstm",
        ],
        "a GRU",
    );
    clean_error(
        &[
            "import",
            "--from",
            s(&no_vocab),
            "--out",
            s(&out.with_extension("ckpt")),
        ],
        "--out is the int8 model",
    );
    assert!(
        !out.exists() && !out.with_extension("ckpt").exists(),
        "a failed import wrote files"
    );
    let m = dir.join("ok.mrnn");
    ok(&[
        "import",
        "--from",
        s(&fixtures().join("gru2_emb.safetensors")),
        "--out",
        s(&m),
    ]);
    clean_error(
        &[
            "export",
            "--model",
            s(&m),
            "--out",
            s(&dir.join("x.safetensors")),
            "--format",
            "safetensors",
        ],
        "needs a float checkpoint",
    );
}
