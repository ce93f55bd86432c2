//! Word classifiers: the file (golden bytes of a tiny one, both input layouts, every
//! refusal of an inconsistent word vocabulary or layout), and the integer path against
//! the float one on random models, whole texts and texts in pieces.

mod words_common;

use micrornn::cell::{Net, NetF, NetQ};
use micrornn::format::{self, Body, CellKind, Config, Span, Task, TensorEntry};
use micrornn::model::input_layout_bytes;
use micrornn::words::{classify_text, WordStream};
use micrornn::{Error, InputLayout, Model, Rng};
use words_common::{word_model_file, Dequantized, WordShape, WORDS};

// ---- the file ----

/// A tiny word classifier with its embedding apart: words "free\nhi" (V = 4), E = 2,
/// RNN of 2 units, labels "ham\nspam", max_words 300.
fn tiny_words_file(vocab: &str, vocab_size: u16, task: Task) -> Vec<u8> {
    let mut data = Vec::new();
    let mut entries = Vec::new();
    let mut tensor = |rows: u16, cols: u16, bias: bool, data: &mut Vec<u8>| {
        let n = rows as usize * cols as usize;
        let at = |d: &Vec<u8>, len: usize| Span {
            offset: d.len() as u32,
            len: len as u32,
        };
        let weights = at(data, n);
        data.extend((0..n).map(|i| (i as u8 + 1) * 3));
        let scales = at(data, 4 * rows as usize);
        (0..rows).for_each(|_| data.extend(0.0078125f32.to_le_bytes()));
        let b = at(data, if bias { 4 * rows as usize } else { 0 });
        if bias {
            (0..rows).for_each(|r| data.extend((r as i32 * 32768 - 16384).to_le_bytes()));
        }
        entries.push(TensorEntry {
            rows,
            cols,
            weights,
            scales,
            bias: if bias { b } else { Span::default() },
        });
    };
    tensor(vocab_size, 2, false, &mut data); // emb (V, E)
    tensor(2, 2, true, &mut data); // layer 0 w_x (H, E) + b_x
    tensor(2, 2, true, &mut data); // layer 0 w_h + b_h
    tensor(2, 2, true, &mut data); // w_out + b_out
    let table: Vec<u8> = entries.iter().flat_map(|e| e.to_record()).collect();
    let body = Body {
        config: Config {
            cell: CellKind::Rnn,
            task,
            layers: 1,
            hidden: 2,
            embed: 2,
            vocab_size,
        },
        vocab,
        labels: "ham\nspam",
        tensors: &table,
        data: &data,
    };
    let mut out = vec![0u8; 1024];
    let n = format::encode(&body, &mut out).unwrap();
    out.truncate(n);
    out
}

fn tiny() -> Vec<u8> {
    tiny_words_file("free\nhi", 4, Task::ClassifyWords { max_words: 300 })
}

#[test]
fn tiny_word_model_golden_bytes() {
    let f = tiny();
    #[rustfmt::skip]
    let start: &[u8] = &[
        b'M', b'R', b'N', b'N', 1, 0, 0, 0, 223, 0, 0, 0,
        // config: cell 0 (rnn), task 3 (classify-words) with max_words 300 (ac 02),
        // layers 1, hidden 2, embed 2, vocab_size 4
        0, 3, 0xac, 0x02, 1, 2, 2, 4,
        // vocab "free\nhi", labels "ham\nspam"
        7, b'f', b'r', b'e', b'e', b'\n', b'h', b'i',
        8, b'h', b'a', b'm', b'\n', b's', b'p', b'a', b'm',
        // the tensor table: 4 records (the embedding apart)
        112,
        4, 0, 2, 0, 0, 0, 0, 0, 8, 0, 0, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(&f[..start.len()], start, "{f:?}");
    assert_eq!(f.len(), 12 + 223 + 4);
    assert_eq!(
        &f[f.len() - 4..],
        &format::crc32(&f[..f.len() - 4]).to_le_bytes()
    );
    let m = Model::load(&f).unwrap();
    assert_eq!(m.task(), Task::ClassifyWords { max_words: 300 });
    assert_eq!(m.max_words(), Some(300));
    assert_eq!(m.input_layout(), InputLayout::Apart { embed: 2 });
    assert_eq!(m.vocab_size(), 4);
    let words = m.word_vocab().unwrap();
    assert_eq!((words.id("hi"), words.id("free"), words.id("x")), (3, 2, 1));
    assert_eq!(m.embedding().unwrap().weight(3, 1), 24);
    assert_eq!(m.layer(0).w_x.bias_q16(1), 16384);
    // emb 4·2 + layer 0 w_x 2·2 + 2 + w_h 2·2 + 2 + w_out 2·2 + 2
    assert_eq!(m.param_count(), 8 + 6 + 6 + 6);
}

#[test]
fn word_vocabularies_that_do_not_hold_are_refused() {
    let task = Task::ClassifyWords { max_words: 10 };
    let bad_word = |vocab: &str, v: u16, index: usize, reason: &'static str| {
        let e = Model::load(&tiny_words_file(vocab, v, task)).unwrap_err();
        assert_eq!(e, Error::BadWord { index, reason }, "{vocab:?}");
    };
    bad_word("hi\nfree", 4, 1, "is out of byte order");
    // Reopened (the store's served model, checked whole before), the words are only
    // counted: a model whose bytes changed since gives wrong ids, never a panic.
    let f = tiny_words_file("hi\nfree", 4, task);
    let m = Model::reopen(&f).unwrap();
    let v = m.word_vocab().unwrap();
    assert!(["hi", "free", "x", ""].iter().all(|w| v.id(w) < 4));
    bad_word("free\nfree", 4, 1, "is a duplicate");
    bad_word("free\n\nhi", 5, 1, "is empty");
    bad_word("free\nhi\n", 5, 2, "is empty");
    bad_word("", 2, 0, "is empty");
    bad_word(
        "<UNK>\nfree",
        4,
        0,
        "is <PAD> or <UNK>, which are ids 0 and 1, not words",
    );
    bad_word("fr ee\nhi", 4, 0, "has whitespace or a control byte");
    let e = Model::load(&tiny_words_file("free\nhi\nwin", 4, task)).unwrap_err();
    assert_eq!(
        e,
        Error::BadVocab {
            reason: "word count + 2 does not match vocab_size"
        }
    );
    // The one-line messages say which word and why.
    assert_eq!(
        Error::BadWord {
            index: 3,
            reason: "is a duplicate"
        }
        .to_string(),
        "bad word vocabulary: word 3 is a duplicate"
    );
}

#[test]
fn other_inconsistencies_are_refused() {
    let f = tiny_words_file("free\nhi", 4, Task::ClassifyWords { max_words: 0 });
    let e = Model::load(&f);
    assert!(
        matches!(
            e,
            Err(Error::DimensionOutOfRange {
                what: "max_words",
                value: 0,
                ..
            })
        ),
        "{e:?}"
    );
    // Seq2seq (index 2): a build without the feature refuses it; with it, these four
    // tensors are not an encoder–decoder's eleven.
    let e = Model::load(&tiny_words_file("ab", 4, Task::Seq2seq)).unwrap_err();
    if cfg!(feature = "seq2seq") {
        assert!(
            matches!(
                e,
                Error::TensorCount { found: 4, .. } | Error::BadLabels { .. }
            ),
            "{e:?}"
        );
    } else {
        assert_eq!(e, Error::UnsupportedTask { task: "seq2seq" });
        assert_eq!(
            e.to_string(),
            "seq2seq models are not supported by this build"
        );
    }
    // A character classifier has no embedding apart: four tensors are one too many.
    let e = Model::load(&tiny_words_file("ab", 4, Task::Classify)).unwrap_err();
    assert_eq!(
        e,
        Error::TensorCount {
            expected: 3,
            found: 4
        }
    );
}

#[test]
fn the_layouts_are_told_apart_and_checked() {
    let mut rng = Rng::new(5);
    for apart in [false, true] {
        let shape = WordShape {
            cell: CellKind::Gru,
            layers: 2,
            hidden: 6,
            embed: 4,
            apart,
            max_words: 8,
        };
        let f = word_model_file(shape, &mut rng);
        let m = Model::load(&f).unwrap();
        let want = match apart {
            true => InputLayout::Apart { embed: 4 },
            false => InputLayout::Folded,
        };
        assert_eq!(m.input_layout(), want);
        // Arena: the embedding row takes packed_len(E) = 2 more words.
        let base = micrornn::arena_words(CellKind::Gru, 2, 6);
        assert_eq!(NetQ::needs(&m), base + if apart { 2 } else { 0 });
        assert_eq!(m.ram_bytes(), 4 * (NetQ::needs(&m) + 2));
        let macs = 2 * 18 * 6 + 18 * 6 + if apart { 18 * 4 } else { 0 };
        assert_eq!(m.macs_per_char(), macs);
    }
    // Which one is smaller: 19 tokens × 18 rows against 19 × 4 + 18 × 4 (+ scales, biases).
    let (v, e, gh) = (19, 4, 18);
    assert_eq!(
        input_layout_bytes(v, e, gh),
        (v * gh + 4 * v, v * e + 4 * v + gh * e + 8 * gh)
    );
    let (folded, apart) = input_layout_bytes(5000, 32, 192);
    assert!(apart < folded / 4, "{apart} {folded}");
}

#[test]
fn a_wrong_embedding_shape_names_the_tensor() {
    // E in the configuration differs from the table's width.
    let mut f = tiny();
    // config's embed byte: offset 12 + [cell, task, max_words (2), layers, hidden, embed].
    f[12 + 6] = 3;
    let end = f.len() - 4;
    let crc = format::crc32(&f[..end]).to_le_bytes();
    f[end..].copy_from_slice(&crc);
    let e = Model::load(&f).unwrap_err();
    assert_eq!(
        e,
        Error::ShapeMismatch {
            tensor: "emb",
            expected: (4, 3),
            found: (4, 2)
        }
    );
}

// ---- the integer path against the float one ----

/// Random texts over the vocabulary's words, unknown words and specials' sources.
fn random_text(rng: &mut Rng, words: usize) -> String {
    let pool: Vec<&str> = WORDS
        .split('\n')
        .filter(|w| !w.starts_with('<'))
        .chain([
            "zebra",
            "2002",
            "http://x.org/y",
            "a@b.com",
            "!!!",
            "Hello,",
        ])
        .collect();
    (0..words)
        .map(|_| pool[rng.below(pool.len() as _) as usize])
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn integer_and_float_agree_on_random_word_models() {
    let mut rng = Rng::new(77);
    let (mut agree, mut total, mut diff) = (0, 0, 0.0f64);
    for (i, cell) in [CellKind::Rnn, CellKind::Gru, CellKind::Lstm]
        .into_iter()
        .cycle()
        .take(12)
        .enumerate()
    {
        let shape = WordShape {
            cell,
            layers: 1 + i % 2,
            hidden: [5, 8, 16, 17][i % 4],
            embed: [3, 8, 12][i % 3],
            apart: i % 2 == 0,
            max_words: 12,
        };
        let f = word_model_file(shape, &mut rng);
        let m = Model::load(&f).unwrap();
        let vocab = *m.word_vocab().unwrap();
        let deq = Dequantized::of(&m);
        let mut arena_q = vec![0i32; NetQ::needs(&m)];
        let mut q = NetQ::new(&m, &mut arena_q).unwrap();
        let w = deq.weights(&m);
        let mut arena_f = vec![0f32; NetF::needs(&w)];
        let mut fl = NetF::new(w, &mut arena_f).unwrap();
        let mut out = [0i32; 2];
        for _ in 0..40 {
            let n = 1 + rng.below(20) as usize;
            let text = random_text(&mut rng, n);
            let vq = classify_text(&mut q, &vocab, 12, &text, &mut out).unwrap();
            let vf = classify_text(&mut fl, &vocab, 12, &text, &mut out).unwrap();
            // Probabilities of label 1 ("spam").
            let p = |v: micrornn::Verdict| match v.label {
                1 => v.prob as f64,
                _ => 10_000.0 - v.prob as f64,
            } / 10_000.0;
            diff += (p(vq) - p(vf)).abs();
            agree += (vq.label == vf.label) as usize;
            total += 1;
        }
    }
    let mean = diff / total as f64;
    assert!(agree * 100 >= total * 95, "{agree} of {total}");
    assert!(mean < 0.02, "mean |p_int - p_float| = {mean}");
}

#[test]
fn pieces_and_the_word_limit_give_the_same_verdict() {
    let mut rng = Rng::new(8);
    let shape = WordShape {
        cell: CellKind::Lstm,
        layers: 1,
        hidden: 12,
        embed: 6,
        apart: true,
        max_words: 5,
    };
    let f = word_model_file(shape, &mut rng);
    let m = Model::load(&f).unwrap();
    let vocab = *m.word_vocab().unwrap();
    let mut arena = vec![0i32; NetQ::needs(&m)];
    let mut net = NetQ::new(&m, &mut arena).unwrap();
    let mut out = [0i32; 2];
    for _ in 0..50 {
        let n = 1 + rng.below(12) as usize;
        let text = random_text(&mut rng, n);
        let whole = classify_text(&mut net, &vocab, 1000, &text, &mut out).unwrap();
        // In random pieces, through WordStream.
        let mut s = WordStream::begin(&mut net, &vocab, 2).unwrap();
        let mut at = 0;
        while at < text.len() {
            let end = (at + 1 + rng.below(7) as usize).min(text.len());
            s.feed(&mut net, &vocab, 1000, &text.as_bytes()[at..end]);
            at = end;
        }
        assert_eq!(s.finish(&mut net, &vocab, 1000, &mut out), whole, "{text}");
        // Cut at 5 tokens: the same as the text of its first 5 tokens.
        let mut first = Vec::new();
        micrornn::words::tokenize(text.as_bytes(), |t| first.push(t.to_string()));
        let cut = classify_text(&mut net, &vocab, 5, &text, &mut out).unwrap();
        net.reset();
        for t in first.iter().take(5) {
            net.feed(vocab.id(t));
        }
        net.output(&mut out);
        assert_eq!(cut, micrornn::classify::verdict(&out), "{text}");
    }
    // No tokens at all: the zero state's verdict (the output bias alone).
    let empty = classify_text(&mut net, &vocab, 5, " ,;  ", &mut out).unwrap();
    net.reset();
    net.output(&mut out);
    assert_eq!(empty, micrornn::classify::verdict(&out));
}
