//! Arbitrary bytes → `Model::load`; a file that loads is run: the integer network is
//! built over an arena of any size it accepts, a name is generated with any settings and
//! prefix, and a name is classified. Nothing may panic, and the work is bounded: every
//! generation stops within its `max_len` (asserted), so a file cannot make inference loop.
//!
//! Input: a model file, then optional "knob" bytes after its CRC (the loader ignores bytes
//! after the CRC, as in a flash partition): they choose the arena, the settings, the
//! prefix and the name to classify. The CRC is checked by `Model::load`; the same bytes
//! also go through `Model::load_without_crc` (every other check), so that mutated files
//! reach the body's validation without the fuzzer having to fix the CRC.

#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::format::{HEADER_LEN, TRAILER_LEN};
use micrornn::{classify, generate, Model, NetQ, Rng, Settings, Task};

/// Longest name the fuzz target asks for: keeps one run short (the bound itself is checked).
const MAX_LEN_CAP: u16 = 48;

fuzz_target!(|data: &[u8]| {
    let strict = Model::load(data);
    let model = match Model::load_without_crc(data) {
        Ok(m) => m,
        Err(e) => {
            // Every error has a one-line message.
            assert!(!e.to_string().contains('\n'), "{e}");
            assert!(strict.is_err(), "loads with its CRC but not without");
            return;
        }
    };
    if let Ok(s) = &strict {
        assert_eq!(s.config(), model.config());
    }
    let mut knobs = Knobs(trailer(data));
    // Everything `info` reports must be computable.
    let _ = (
        model.param_count(),
        model.ram_bytes(),
        model.macs_per_char(),
    );
    let labels = match model.task() {
        Task::Classify => model.outputs(),
        Task::Seq2seq => model.outputs() - 1, // the phonemes, then the boundary
        _ => 0,
    };
    assert_eq!(model.labels().count(), labels);
    run(&model, &mut knobs);
});

/// Builds the network and runs the model's task with settings drawn from `k`.
fn run(model: &Model<'_>, k: &mut Knobs<'_>) {
    let needs = NetQ::needs(model);
    let extra = (k.byte() as usize * 4).min(NetQ::needs_for_speed(model));
    let mut arena = vec![0i32; needs + extra];
    // An arena one word short is refused, never used.
    if needs > 0 {
        assert!(NetQ::new(model, &mut arena[..needs - 1]).is_err());
    }
    let mut net = NetQ::new(model, &mut arena).expect("the arena it asked for");
    let mut logits = vec![0i32; model.outputs()];
    let chars: Vec<char> = model.vocab.chars().chars().collect();
    let text = |k: &mut Knobs<'_>| -> String {
        let n = k.byte() % 12;
        (0..n)
            .map(|_| {
                let b = k.byte();
                // Mostly the vocabulary's characters, sometimes any character.
                match chars.get(b as usize % (chars.len() + 1)) {
                    Some(&c) if b < 0xf0 => c,
                    _ => char::from_u32(0x20 + b as u32 * 7).unwrap_or('?'),
                }
            })
            .collect()
    };
    match model.task() {
        Task::Generate => {
            for _ in 0..2 {
                let settings = Settings {
                    temperature_milli: k.u32() % 120_000,
                    top_k: k.byte() as u16 % 80,
                    min_p_milli: k.u32() % 1100,
                    // 0 (refused) once in 256.
                    max_len: k.byte().wrapping_add(1) as u16 % (MAX_LEN_CAP + 1),
                };
                let prefix = text(k);
                let mut rng = Rng::new(k.u32() as u64);
                let mut emitted = 0usize;
                let result = generate(
                    &mut net,
                    &model.vocab,
                    &settings,
                    &prefix,
                    &mut rng,
                    &mut logits,
                    |c| {
                        assert!(
                            model.vocab.token(c).is_ok(),
                            "{c:?} is not in the vocabulary"
                        );
                        emitted += 1;
                    },
                );
                match result {
                    Ok(n) => {
                        assert_eq!(n, emitted);
                        assert!(n >= 1 && n <= settings.max_len as usize, "{n} chars");
                    }
                    Err(_) => assert_eq!(emitted, 0, "an error after output"),
                }
            }
        }
        Task::Classify => {
            for _ in 0..2 {
                let name = text(k);
                if let Ok(v) = classify(&mut net, &model.vocab, &name, &mut logits) {
                    assert!(v.label < model.outputs() && v.prob <= 10_000, "{v:?}");
                    assert!(model.label(v.label).is_some());
                }
            }
        }
        Task::ClassifyWords { max_words } => {
            // Any text, fed in one go: a verdict on a label of the model.
            let vocab = model.word_vocab().expect("a word classifier has its words");
            for _ in 0..2 {
                let message = text(k);
                let v = micrornn::words::classify_text(
                    &mut net,
                    vocab,
                    max_words as usize,
                    &message,
                    &mut logits,
                );
                if let Ok(v) = v {
                    assert!(v.label < model.outputs() && v.prob <= 10_000, "{v:?}");
                    assert!(model.label(v.label).is_some());
                }
            }
        }
        Task::Seq2seq => {
            // Any word, through the encoder–decoder's integer path: at most MAX_OUTPUT.
            use micrornn::seq2seq::{greedy, Seq2seqQ, MAX_OUTPUT};
            let needs = Seq2seqQ::needs(model).expect("a seq2seq model");
            let mut arena = vec![0i32; needs];
            let mut s2s = Seq2seqQ::new(model, &mut arena).expect("the arena it asked for");
            let word = text(k);
            let mut ids = [0u16; MAX_OUTPUT];
            if let Ok(n) = greedy(&mut s2s, &word, &mut logits, &mut ids) {
                assert!(n <= MAX_OUTPUT);
            }
        }
    }
}

/// The bytes after the model's CRC (empty if the header gives no length).
fn trailer(data: &[u8]) -> &[u8] {
    let Some(len) = data.get(8..12) else {
        return &[];
    };
    let body = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    data.get(HEADER_LEN + body + TRAILER_LEN..).unwrap_or(&[])
}

/// Choices drawn from the trailer; zeros once it is used up.
struct Knobs<'a>(&'a [u8]);

impl Knobs<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}
