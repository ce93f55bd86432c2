//! A tiny deterministic random number generator (SplitMix64) for initialisation and benchmarks.

/// SplitMix64: 64 bits of state, passes BigCrush, identical on every platform.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-a, a)`.
    pub(crate) fn uniform(&mut self, a: f32) -> f32 {
        // 24 random bits -> [0, 1) exactly representable in f32.
        let u = (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32;
        (2.0 * u - 1.0) * a
    }

    /// Standard normal (Box–Muller, one value per two draws).
    pub(crate) fn normal(&mut self) -> f32 {
        // u1 in (0, 1] so its logarithm is finite.
        let u1 = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// Uniform integer in `lo..hi` (`lo < hi`).
    pub(crate) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo) as u64) as usize
    }
}
