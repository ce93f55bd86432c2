//! The seedable pseudo-random generator shared by host and device (xoshiro128**).
//!
//! 32-bit operations only, so it is fast on Cortex-M0 and gives the same stream everywhere.

/// xoshiro128** state, seeded from a `u64` through splitmix64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u32; 4],
}

impl Rng {
    /// A generator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Rng {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        let (a, b) = (next(), next());
        let mut s = [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32];
        if s == [0; 4] {
            s[0] = 1; // the one state xoshiro must never be in
        }
        Rng { s }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// A number in `0..n`, by the multiply-shift method, for `n` from 1 to 2^32: a larger
    /// `n` is taken as 2^32, and `n` = 0 gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        (self.next_u32() as u64 * n.min(1 << 32)) >> 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_in_range_for_every_n() {
        let mut rng = Rng::new(5);
        for n in [1, 2, 3, 1000, u32::MAX as u64, 1 << 32] {
            assert!((0..1000).all(|_| rng.below(n) < n), "{n}");
        }
        // n = 0 gives 0; n above 2^32 is taken as 2^32.
        assert_eq!(rng.below(0), 0);
        assert!((0..1000).all(|_| rng.below(u64::MAX) < 1 << 32));
    }

    #[test]
    fn same_seed_same_stream_and_seeds_differ() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let xs: [u32; 8] = core::array::from_fn(|_| a.next_u32());
        let ys: [u32; 8] = core::array::from_fn(|_| b.next_u32());
        let zs: [u32; 8] = core::array::from_fn(|_| c.next_u32());
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut r = Rng::new(1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            counts[r.below(10) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
