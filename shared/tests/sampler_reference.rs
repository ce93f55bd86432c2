//! The sampler against a copy of its first implementation (kept here verbatim, apart
//! from names; `exp_q22` is checked against its own first implementation in `fixed.rs`):
//! the same logits, settings and generator state must give the same token and leave the
//! generator in the same state.

use micrornn::fixed::exp_q22;
use micrornn::rng::Rng;
use micrornn::sampler::{sample, Settings};

// ---- the reference: the first implementation ----

fn ref_sample(
    logits: &[i32],
    allowed: impl Fn(usize) -> bool,
    s: &Settings,
    rng: &mut Rng,
) -> Option<u16> {
    let best = (0..logits.len())
        .filter(|&i| allowed(i))
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if logits[b] >= logits[i] => Some(b),
            _ => Some(i),
        })?;
    if s.temperature_milli == 0 {
        return Some(best as u16);
    }
    let max = logits[best];
    let weight = |i: usize| -> u64 {
        let d = (logits[i] as i64 - max as i64) * 1000 / s.temperature_milli as i64;
        exp_q22(d.max(-64 << 16) as i32) as u64
    };
    let total: u64 = (0..logits.len()).filter(|&i| allowed(i)).map(weight).sum();
    let filtering = s.top_k != 0 || s.min_p_milli != 0;
    let kth = ref_top_k_threshold(logits, &allowed, s.top_k as usize);
    let in_top_k =
        |i: usize| kth.is_none_or(|(kl, ki)| logits[i] > kl || (logits[i] == kl && i <= ki));
    let passes_min_p = |i: usize| weight(i) * 1000 >= s.min_p_milli as u64 * total;
    let best_passes = passes_min_p(best);
    let kept = |i: usize| {
        allowed(i)
            && (!filtering
                || if best_passes {
                    in_top_k(i) && passes_min_p(i)
                } else {
                    i == best
                })
    };
    let kept_total: u64 = if filtering {
        (0..logits.len()).filter(|&i| kept(i)).map(weight).sum()
    } else {
        total
    };
    let r = rng.below(kept_total);
    let mut cum = 0;
    for i in (0..logits.len()).filter(|&i| kept(i)) {
        cum += weight(i);
        if r < cum {
            return Some(i as u16);
        }
    }
    Some(best as u16)
}

fn ref_top_k_threshold(
    logits: &[i32],
    allowed: &impl Fn(usize) -> bool,
    k: usize,
) -> Option<(i32, usize)> {
    let n_allowed = (0..logits.len()).filter(|&i| allowed(i)).count();
    if k == 0 || k >= n_allowed {
        return None;
    }
    let before = |a: usize, b: usize| logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    let mut cur: Option<usize> = None;
    for _ in 0..k {
        cur = (0..logits.len())
            .filter(|&i| allowed(i) && cur.is_none_or(|c| before(c, i)))
            .fold(None, |acc: Option<usize>, i| match acc {
                Some(a) if before(a, i) => Some(a),
                _ => Some(i),
            });
    }
    cur.map(|i| (logits[i], i))
}

// ---- the comparisons ----

// ---- the comparison ----

/// Runs both samplers on the same inputs and generator state; they must pick the same
/// token and leave the generators in the same state.
fn check(logits: &[i32], allowed: &[bool], s: &Settings, rng: &Rng) {
    let (mut a, mut b) = (rng.clone(), rng.clone());
    let want = ref_sample(logits, |i| allowed[i], s, &mut a);
    let mut scratch = logits.to_vec();
    let got = sample(&mut scratch, |i| allowed[i], s, &mut b);
    assert_eq!(
        (got, &b),
        (want, &a),
        "logits {logits:?} allowed {allowed:?} settings {s:?}"
    );
}

const Q: i32 = 1 << 16;

/// A number in `lo..=hi`.
fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + (((rng.next_u32() as u64) << 32 | rng.next_u32() as u64) % (hi - lo + 1) as u64) as i64
}

fn pick<T: Copy>(rng: &mut Rng, xs: &[T]) -> T {
    xs[rng.below(xs.len() as u64) as usize]
}

/// Temperatures: ones that divide 1000 (no division), others, the limits, and beyond
/// the range `Settings::validate` accepts (the sampler itself takes any).
const TEMPERATURES: &[u32] = &[
    0,
    1,
    2,
    3,
    7,
    8,
    100,
    125,
    200,
    250,
    333,
    400,
    500,
    600,
    700,
    750,
    800,
    900,
    999,
    1000,
    1001,
    1100,
    1200,
    1500,
    2000,
    2500,
    3000,
    7919,
    10_000,
    62_500,
    99_999,
    100_000,
    100_001,
    4_294_967,
    4_294_968,
    10_000_000,
    u32::MAX,
];

fn random_settings(rng: &mut Rng, n: usize) -> Settings {
    let temperature_milli = match rng.below(4) {
        0 => between(rng, 1, 100_000) as u32,
        _ => pick(rng, TEMPERATURES),
    };
    let top_k = match rng.below(4) {
        0 => 0,
        1 => pick(rng, &[1, 2, 3, 65535]),
        _ => between(rng, 0, n as i64 + 2).min(65535) as u16,
    };
    let min_p_milli = match rng.below(4) {
        0 => 0,
        1 => pick(rng, &[1, 10, 50, 100, 340, 500, 900, 999, 1000]),
        2 => between(rng, 0, 1000) as u32,
        _ => between(rng, 0, 60) as u32,
    };
    Settings {
        temperature_milli,
        top_k,
        min_p_milli,
        max_len: 24,
    }
}

fn random_logits(rng: &mut Rng, n: usize) -> Vec<i32> {
    let mode = rng.below(7);
    let base = between(rng, -40 * Q as i64, 40 * Q as i64);
    (0..n)
        .map(|_| match mode {
            // Like a trained model's: within ±12 nats.
            0 | 1 => between(rng, -12 * Q as i64, 12 * Q as i64) as i32,
            // A few distinct values: many ties.
            2 => (base + between(rng, 0, 3) * Q as i64 / 2) as i32,
            // Anything, the extremes included.
            3 => match rng.below(4) {
                0 => pick(
                    rng,
                    &[i32::MIN, i32::MAX, i32::MIN + 1, i32::MAX - 1, 0, -1],
                ),
                _ => rng.next_u32() as i32,
            },
            // All equal.
            4 => base as i32,
            // Around the point where weights reach 0 at temperatures up to 100.
            5 => (base - between(rng, 0, 1600 * Q as i64)).max(i32::MIN as i64) as i32,
            // Near the top within a few LSBs.
            _ => (base + between(rng, -40, 0)) as i32,
        })
        .collect()
}

fn random_allowed(rng: &mut Rng, n: usize) -> Vec<bool> {
    match rng.below(5) {
        0 => vec![true; n],
        1 => (0..n).map(|i| i != 0).collect(),
        2 => (0..n).map(|i| i > 1).collect(),
        3 => (0..n).map(|_| rng.below(3) != 0).collect(),
        _ => (0..n).map(|_| rng.below(8) == 0).collect(),
    }
}

#[test]
fn same_tokens_as_the_reference_on_random_inputs() {
    let mut rng = Rng::new(2024);
    for case in 0..150_000 {
        let n = match rng.below(8) {
            0 => between(&mut rng, 0, 4) as usize,
            1 => between(&mut rng, 5, 200) as usize,
            2 if case % 50 == 0 => pick(&mut rng, &[500, 1000, 1024]),
            _ => pick(&mut rng, &[28, 29, 30, 64, 96]),
        };
        let logits = random_logits(&mut rng, n);
        let allowed = random_allowed(&mut rng, n);
        let s = random_settings(&mut rng, n);
        let state = Rng::new(((rng.next_u32() as u64) << 32) | rng.next_u32() as u64);
        check(&logits, &allowed, &s, &state);
    }
}

#[test]
fn same_tokens_as_the_reference_on_edge_cases() {
    let settings = |temperature_milli, top_k, min_p_milli| Settings {
        temperature_milli,
        top_k,
        min_p_milli,
        max_len: 24,
    };
    let logit_sets: Vec<Vec<i32>> = vec![
        vec![],
        vec![0],
        vec![i32::MIN],
        vec![i32::MAX, i32::MIN],
        vec![i32::MIN, i32::MAX, i32::MIN, i32::MAX],
        vec![i32::MIN; 28],
        vec![i32::MAX; 1024],
        vec![0; 1024],
        vec![3 * Q, Q, 3 * Q, 2 * Q, 3 * Q, -Q],
        (0..28).map(|i| i * Q / 2).collect(),
        (0..28).map(|i| -i * Q).collect(),
        (0..28).map(|i| (i % 3) * Q).collect(),
        (0..96).map(|i| i32::MAX - i * 4 * Q).collect(),
        (0..96).map(|i| (i * 7919 % 31) * Q / 3 - 5 * Q).collect(),
    ];
    let mut masks_rng = Rng::new(9);
    for logits in &logit_sets {
        let n = logits.len();
        let masks: Vec<Vec<bool>> = vec![
            vec![true; n],
            vec![false; n],
            (0..n).map(|i| i != 0).collect(),
            (0..n).map(|i| i == n - 1).collect(),
            (0..n).map(|_| masks_rng.below(2) == 0).collect(),
        ];
        for allowed in &masks {
            for &t in TEMPERATURES {
                for top_k in [0, 1, 2, 3, 5, n as u16, n as u16 + 1, 65535] {
                    for min_p in [0, 1, 100, 340, 900, 1000] {
                        for seed in [0, 1, 7] {
                            check(logits, allowed, &settings(t, top_k, min_p), &Rng::new(seed));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn same_names_as_the_reference_over_long_runs() {
    // One generator across many draws, the logits drifting, as in generation.
    for (t, top_k, min_p_milli) in [(1000, 0, 0), (800, 0, 0), (1000, 5, 0), (700, 0, 50)] {
        let s = Settings {
            temperature_milli: t,
            top_k,
            min_p_milli,
            max_len: 24,
        };
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        let mut logits: Vec<i32> = (0..28).map(|i| (i * 37 % 11 - 5) * Q).collect();
        for step in 0..20_000 {
            let allowed = |i: usize| i != 0 && (step % 7 != 0 || i != 1);
            let want = ref_sample(&logits, allowed, &s, &mut a);
            let mut scratch = logits.clone();
            assert_eq!(
                sample(&mut scratch, allowed, &s, &mut b),
                want,
                "step {step}"
            );
            for (i, l) in logits.iter_mut().enumerate() {
                *l = l.wrapping_add(((want.unwrap() as i32 * 31 + i as i32 * 17) % 13 - 6) * Q / 5);
                *l = (*l).clamp(-20 * Q, 20 * Q);
            }
        }
        assert_eq!(a, b);
    }
}

#[test]
fn same_tokens_when_the_draw_lands_on_a_boundary() {
    // A draw equal to a cumulative weight must go to the next token of nonzero weight.
    // That happens about once in 2^22 / n draws: search seeds that make it happen.
    let cases: [(Vec<i32>, u32); 3] = [
        ((0..96).map(|i| -(i * 7919 % 97) * Q / 16).collect(), 1000),
        ((0..64).map(|i| -(i * 31 % 64) * Q / 8).collect(), 800),
        // Zero weights between the boundaries.
        (
            (0..96)
                .map(|i| if i % 3 == 0 { -40 * Q } else { -(i % 7) * Q })
                .collect(),
            1000,
        ),
    ];
    for (logits, t) in cases {
        let allowed: Vec<bool> = (0..logits.len()).map(|i| i != 0).collect();
        let max = (1..logits.len()).map(|i| logits[i]).max().unwrap();
        let weights: Vec<u64> = (0..logits.len())
            .map(|i| {
                let d = (logits[i] as i64 - max as i64) * 1000 / t as i64;
                if allowed[i] {
                    exp_q22(d.max(-64 << 16) as i32) as u64
                } else {
                    0
                }
            })
            .collect();
        let total: u64 = weights.iter().sum();
        let boundaries: Vec<u64> = weights
            .iter()
            .scan(0, |cum, w| {
                *cum += w;
                Some(*cum)
            })
            .filter(|&c| c < total)
            .collect();
        let s = Settings {
            temperature_milli: t,
            ..Settings::default()
        };
        let mut found = 0;
        for seed in 0.. {
            if boundaries.contains(&Rng::new(seed).below(total)) {
                check(&logits, &allowed, &s, &Rng::new(seed));
                found += 1;
                if found == 8 {
                    break;
                }
            }
        }
    }
}

#[test]
fn any_settings_and_logits_give_an_allowed_token_or_none_never_a_panic() {
    // Settings straight from a caller, unvalidated, and logits of any value.
    let mut rng = Rng::new(77);
    for round in 0..20_000 {
        let any = |rng: &mut Rng, small: u32| match rng.below(3) {
            0 => rng.next_u32(),
            1 => rng.next_u32() % small,
            _ => [0, 1, u32::MAX][rng.below(3) as usize],
        };
        let s = Settings {
            temperature_milli: any(&mut rng, 3000),
            top_k: any(&mut rng, 40) as u16,
            min_p_milli: any(&mut rng, 1200),
            max_len: any(&mut rng, 30) as u16,
        };
        let n = rng.below(70) as usize;
        let mut logits: Vec<i32> = (0..n)
            .map(|_| match rng.below(4) {
                0 => rng.next_u32() as i32,
                1 => [i32::MIN, i32::MAX, 0][rng.below(3) as usize],
                _ => (rng.next_u32() % (40 * Q as u32)) as i32 - 20 * Q,
            })
            .collect();
        let mask = rng.next_u32() as u64 | (rng.next_u32() as u64) << 32;
        let allowed = |i: usize| round % 5 == 0 || mask >> (i % 64) & 1 == 1;
        match sample(&mut logits, allowed, &s, &mut rng) {
            Some(t) => assert!((t as usize) < n && allowed(t as usize), "{s:?}"),
            None => assert!((0..n).all(|i| !allowed(i)), "{s:?}"),
        }
    }
}
