//! Running seq2seq models: the integer path against the float path on the same weights,
//! saved and restored decoder states, the arena, the words refused, the line written.
#![cfg(feature = "seq2seq")]

mod seq2seq_common;

use micrornn::format::CellKind;
use micrornn::rng::Rng;
use micrornn::seq2seq::{
    arena_words, greedy, pronounce, write_line, Phonemes, Seq2seqF, Seq2seqNet, Seq2seqQ,
    Seq2seqWeights, MAX_INPUT,
};
use micrornn::{Error, Model, Vocab};
use seq2seq_common::{file, float_params, float_shape, random_tensors, random_word, Shape};

fn shapes() -> [Shape; 4] {
    let s = |cell, layers, hidden, embed| Shape {
        cell,
        layers,
        hidden,
        embed,
        chars: 12,
        phonemes: 10,
    };
    [
        s(CellKind::Gru, 1, 16, 4),
        s(CellKind::Lstm, 2, 10, 5),
        s(CellKind::Rnn, 1, 6, 3),
        s(CellKind::Gru, 2, 34, 8),
    ]
}

/// Greedy outputs of both paths agree on most words (all of them, measured), and the
/// logits are close (within 5e-4, measured).
#[test]
fn the_integer_path_follows_the_float_path() {
    let mut rng = Rng::new(21);
    for s in shapes() {
        let tensors = random_tensors(&s, &mut rng);
        let bytes = file(s.config(), s.vocab(), &s.labels(), &tensors);
        let model = Model::load(&bytes).unwrap();
        let params = float_params(&s, &tensors);
        let w = Seq2seqWeights::from_flat(float_shape(&s), &params).unwrap();
        let vocab = Vocab::new(s.vocab()).unwrap();
        let mut arena_q = vec![0i32; Seq2seqQ::needs(&model).unwrap()];
        let mut arena_f = vec![0f32; Seq2seqF::needs(&w)];
        let mut q = Seq2seqQ::new(&model, &mut arena_q).unwrap();
        let mut f = Seq2seqF::new(&w, vocab, &mut arena_f).unwrap();
        let p = q.out_tokens();
        assert_eq!(f.out_tokens(), p);
        let (mut same, mut words, mut worst) = (0, 0, 0f32);
        for _ in 0..60 {
            let word = random_word(&s, 12, &mut rng);
            let (mut lq, mut lf) = ([0i32; 16], [0i32; 16]);
            let (mut oq, mut of) = ([0u16; 32], [0u16; 32]);
            let nq = greedy(&mut q, &word, &mut lq, &mut oq).unwrap();
            let nf = greedy(&mut f, &word, &mut lf, &mut of).unwrap();
            words += 1;
            same += usize::from(oq[..nq] == of[..nf]);
            // Teacher-forced on the float path's output: the logits of every step.
            q.encode(&word).unwrap();
            f.encode(&word).unwrap();
            q.start();
            f.start();
            let mut prev = (p - 1) as u16;
            let mut flog = [0f32; 16];
            for &next in of[..nf].iter().chain([&((p - 1) as u16)]) {
                q.step(prev, &mut lq).unwrap();
                f.step_f32(prev, &mut flog).unwrap();
                for k in 0..p {
                    worst = worst.max((lq[k] as f32 / 65536.0 - flog[k]).abs());
                }
                prev = next;
            }
        }
        assert!(worst < 0.005, "{s:?}: logits differ by {worst}");
        assert!(same * 10 >= words * 9, "{s:?}: {same} of {words} the same");
    }
}

/// A saved decoder state, restored, gives the same logits as going on.
#[test]
fn saved_states_resume_exactly() {
    let mut rng = Rng::new(22);
    for s in shapes() {
        let tensors = random_tensors(&s, &mut rng);
        let bytes = file(s.config(), s.vocab(), &s.labels(), &tensors);
        let model = Model::load(&bytes).unwrap();
        let params = float_params(&s, &tensors);
        let w = Seq2seqWeights::from_flat(float_shape(&s), &params).unwrap();
        let mut arena_q = vec![0i32; Seq2seqQ::needs(&model).unwrap()];
        let mut arena_f = vec![0f32; Seq2seqF::needs(&w)];
        let mut q = Seq2seqQ::new(&model, &mut arena_q).unwrap();
        let vocab = Vocab::new(s.vocab()).unwrap();
        let mut f = Seq2seqF::new(&w, vocab, &mut arena_f).unwrap();
        round_trip(&mut q, &s, &mut rng);
        round_trip(&mut f, &s, &mut rng);
    }
}

fn round_trip(net: &mut dyn Seq2seqNet, s: &Shape, rng: &mut Rng) {
    let p = net.out_tokens();
    let n = net.state_words();
    let word = random_word(s, 10, rng);
    net.encode(&word).unwrap();
    net.start();
    let mut logits = [0i32; 16];
    let mut saved = vec![0i32; n];
    // Two steps, save, two steps (A); restore, the same two steps (B): A == B.
    net.step((p - 1) as u16, &mut logits).unwrap();
    net.step(1, &mut logits).unwrap();
    net.save_state(&mut saved).unwrap();
    let mut a = [[0i32; 16]; 2];
    net.step(2, &mut a[0]).unwrap();
    net.step(3, &mut a[1]).unwrap();
    // Something else in between: another branch.
    net.load_state(&saved).unwrap();
    net.step(0, &mut logits).unwrap();
    net.load_state(&saved).unwrap();
    let mut b = [[0i32; 16]; 2];
    net.step(2, &mut b[0]).unwrap();
    net.step(3, &mut b[1]).unwrap();
    assert_eq!(a, b, "{s:?}");
    // Short buffers are errors.
    assert!(matches!(
        net.save_state(&mut saved[..n - 1]),
        Err(Error::BufferTooSmall { .. })
    ));
    assert!(matches!(
        net.load_state(&saved[..n - 1]),
        Err(Error::BufferTooSmall { .. })
    ));
    // Starting again gives the first step's logits again.
    net.start();
    let (mut x, mut y) = ([0i32; 16], [0i32; 16]);
    net.step((p - 1) as u16, &mut x).unwrap();
    net.start();
    net.step((p - 1) as u16, &mut y).unwrap();
    assert_eq!(x, y);
}

#[test]
fn the_arena_is_what_arena_words_says() {
    let mut rng = Rng::new(23);
    for s in shapes() {
        let bytes = file(
            s.config(),
            s.vocab(),
            &s.labels(),
            &random_tensors(&s, &mut rng),
        );
        let model = Model::load(&bytes).unwrap();
        let words = arena_words(s.cell, s.layers, s.hidden, s.embed, s.phonemes + 1);
        assert_eq!(Seq2seqQ::needs(&model), Ok(words));
        let mut arena = vec![0i32; words];
        assert!(Seq2seqQ::new(&model, &mut arena[..words - 1]).is_err());
        let mut net = Seq2seqQ::new(&model, &mut arena).unwrap();
        let (mut logits, mut ids) = ([0i32; 16], [0u16; 32]);
        greedy(&mut net, "abc", &mut logits, &mut ids).unwrap();
        assert_eq!(model.ram_bytes(), 4 * (words + s.phonemes + 1));
    }
}

#[test]
fn words_are_checked_before_anything_runs() {
    let mut rng = Rng::new(24);
    let s = shapes()[0];
    let bytes = file(
        s.config(),
        s.vocab(),
        &s.labels(),
        &random_tensors(&s, &mut rng),
    );
    let model = Model::load(&bytes).unwrap();
    let mut arena = vec![0i32; Seq2seqQ::needs(&model).unwrap()];
    let mut net = Seq2seqQ::new(&model, &mut arena).unwrap();
    let (mut logits, mut ids) = ([0i32; 16], [0u16; 32]);
    let long = "a".repeat(MAX_INPUT + 1);
    assert_eq!(
        greedy(&mut net, &long, &mut logits, &mut ids),
        Err(Error::InputTooLong { len: 33, max: 32 })
    );
    assert!(greedy(&mut net, &"a".repeat(MAX_INPUT), &mut logits, &mut ids).is_ok());
    assert_eq!(
        greedy(&mut net, "", &mut logits, &mut ids),
        Err(Error::BadSetting { what: "empty word" })
    );
    assert_eq!(
        greedy(&mut net, "abz", &mut logits, &mut ids),
        Err(Error::UnknownChar { ch: 'z' })
    );
    // Upper case is read as lower case.
    let (mut a, mut b) = ([0u16; 32], [0u16; 32]);
    let na = greedy(&mut net, "ABC", &mut logits, &mut a).unwrap();
    let nb = greedy(&mut net, "abc", &mut logits, &mut b).unwrap();
    assert_eq!(a[..na], b[..nb]);
    // Short logits, a token out of range.
    assert!(matches!(
        greedy(&mut net, "abc", &mut logits[..5], &mut ids),
        Err(Error::BufferTooSmall { .. })
    ));
    net.encode("abc").unwrap();
    net.start();
    assert!(net.step(11, &mut logits).is_err());
    assert!(net.step(10, &mut logits).is_ok());
}

#[test]
fn the_line_is_the_word_and_the_phonemes() {
    let ph = Phonemes::new("AH0\nB\nK").unwrap();
    let mut line = String::new();
    write_line(&mut line, "Cab", &ph, &[2, 0, 1]).unwrap();
    assert_eq!(line, "cab K AH0 B");
    line.clear();
    write_line(&mut line, "x", &ph, &[]).unwrap();
    assert_eq!(line, "x");
    line.clear();
    write_line(&mut line, "x", &ph, &[3, 9]).unwrap();
    assert_eq!(line, "x ? ?");
    // pronounce = greedy + write_line; a line that does not fit is an error.
    let mut rng = Rng::new(25);
    let s = shapes()[0];
    let bytes = file(
        s.config(),
        s.vocab(),
        &s.labels(),
        &random_tensors(&s, &mut rng),
    );
    let model = Model::load(&bytes).unwrap();
    let mut arena = vec![0i32; Seq2seqQ::needs(&model).unwrap()];
    let mut net = Seq2seqQ::new(&model, &mut arena).unwrap();
    let ph = net.phonemes();
    let (mut logits, mut ids) = ([0i32; 16], [0u16; 32]);
    let mut out = String::new();
    let n = pronounce(&mut net, &ph, "Bad", &mut logits, &mut ids, &mut out).unwrap();
    assert_eq!(out.split(' ').count(), n + 1);
    assert!(out.starts_with("bad"));
    let mut tiny = heapless::String::<2>::new();
    let e = pronounce(&mut net, &ph, "bad", &mut logits, &mut ids, &mut tiny);
    assert!(matches!(e, Err(Error::BadSetting { .. })), "{e:?}");
}
