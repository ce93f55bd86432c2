//! AVX-512 matrix-multiply kernel for [`super::gemm`]: 6 × 64 register tiles in inline assembly.
//!
//! Same contract and loop structure as [`super::gemm_avx2`], with tiles twice as
//! wide: 24 sixteen-lane accumulators (`zmm0..zmm23`), four `B` vectors per `k`
//! step (`zmm24..zmm27`) and one broadcast per tile row (`zmm28..zmm31`), i.e.
//! 24 FMAs per 10 loads; 4- and 2-row tiles of the same code take the last rows.
//! Written with `asm!` rather than intrinsics because the AVX-512 intrinsics and
//! `target_feature`s need a newer Rust than the workspace's minimum; the assembler
//! accepts the instructions regardless, and the caller only runs them after
//! detecting AVX-512F at run time.
//!
//! Only whole tiles run here: the last `m % 6` rows run as a 2- or 4-row tile
//! (an odd count zero-padded by one row through stack copies), the last `n % 64`
//! columns go to the AVX2 kernel. `k` is cut into blocks of [`KC`] so the
//! `(KC, 64)` panel of `B` (32 KiB) stays in L1 while the row tiles pass over it.

use std::arch::asm;

use super::gemm::Gemm;
use super::gemm_avx2;

/// Rows of `C` per register tile.
const MR: usize = 6;
/// Columns of `C` per register tile (four vectors of 16 lanes).
const NR: usize = 64;
/// Depth of one pass over a `B` panel.
const KC: usize = 128;

/// Runs the product described by `g`.
///
/// # Safety
/// The CPU supports AVX-512F, AVX2 and FMA; for all `i < m`, `p < k`, `j < n` the
/// elements of A, B and C addressed as documented on [`Gemm`] lie inside live
/// allocations, and C does not overlap A or B.
pub(super) unsafe fn matmul(g: &Gemm) {
    let (m_full, n_full) = (g.m - g.m % MR, g.n - g.n % NR);
    let rest = g.m - m_full;
    // The last `rest` (< MR) rows run as one 2-, 4- or 6-row tile: in place when
    // `rest` is even, else through zero-padded copies one row taller (still faster
    // than the narrower AVX2 tiles, which are latency-bound when short).
    let (rest_rows, padded) = (rest + rest % 2, rest % 2 == 1);
    if n_full > 0 {
        let mut a_pad = [0.0f32; MR * KC];
        let mut c_pad = [0.0f32; MR * NR];
        for k0 in (0..g.k).step_by(KC) {
            let kc = (g.k - k0).min(KC);
            // Later depth blocks add to what the earlier ones stored.
            let add = g.add || k0 > 0;
            if padded {
                for r in 0..rest {
                    for (p, x) in a_pad[r * KC..r * KC + kc].iter_mut().enumerate() {
                        *x = *g.a.add((m_full + r) * g.rsa + (k0 + p) * g.csa);
                    }
                }
            }
            for j0 in (0..n_full).step_by(NR) {
                let at = |i0: usize, m: usize| Gemm {
                    m,
                    n: NR,
                    k: kc,
                    a: g.a.wrapping_add(i0 * g.rsa + k0 * g.csa),
                    b: g.b.wrapping_add(k0 * g.ldb + j0),
                    c: g.c.wrapping_add(i0 * g.ldc + j0),
                    add,
                    ..*g
                };
                for i0 in (0..m_full).step_by(MR) {
                    tile(&at(i0, MR));
                }
                if rest == 0 {
                    continue;
                }
                let last = at(m_full, rest_rows);
                if !padded {
                    tile(&last);
                    continue;
                }
                if add {
                    for r in 0..rest {
                        let row = last.c.add(r * g.ldc);
                        std::ptr::copy_nonoverlapping(row, c_pad[r * NR..].as_mut_ptr(), NR);
                    }
                }
                tile(&Gemm {
                    a: a_pad.as_ptr(),
                    rsa: KC,
                    csa: 1,
                    c: c_pad.as_mut_ptr(),
                    ldc: NR,
                    ..last
                });
                for r in 0..rest {
                    let row = last.c.add(r * g.ldc);
                    std::ptr::copy_nonoverlapping(c_pad[r * NR..].as_ptr(), row, NR);
                }
            }
        }
    }
    // Columns past the last whole tile.
    if n_full < g.n {
        let cols = Gemm {
            n: g.n - n_full,
            b: g.b.wrapping_add(n_full),
            c: g.c.wrapping_add(n_full),
            ..*g
        };
        gemm_avx2::matmul(&cols);
    }
}

/// One tile of `g.m` = 6, 4 or 2 rows by 64 columns.
///
/// # Safety
/// As [`matmul`], for this tile.
#[inline]
unsafe fn tile(g: &Gemm) {
    match g.m {
        6 => tile_6(g),
        4 => tile_4(g),
        2 => tile_2(g),
        m => unreachable!("no {m}-row tile"),
    }
}

/// Emits `tile_<R>`: `C[R, 64] (+)= A[R, k] @ B[k, 64]` for `g.m = R`, `g.n = 64`, `g.k >= 1`.
///
/// Each row is `[accumulators ×4, broadcast register, A address, C address]`.
/// Rows are addressed from two bases, `lo` (the first half) and `hi` (the second
/// half), with the row stride as index register (scales 1 and 2 of it), so every
/// tile height takes the same operands. Per `k` step: four `B` vectors
/// (`zmm24..zmm27`), then per row one broadcast of `A` and four FMAs.
macro_rules! tile {
    ($name:ident, $(
        [$z0:literal, $z1:literal, $z2:literal, $z3:literal, $bc:literal, $a:literal, $c:literal]
    ),+) => {
        /// # Safety
        /// As [`matmul`], for this tile.
        #[inline]
        unsafe fn $name(g: &Gemm) {
            const F: usize = std::mem::size_of::<f32>();
            const HALF: usize = [$($a),+].len() / 2;
            debug_assert!(g.m == 2 * HALF && g.n == NR && g.k >= 1);
            asm!(
                // Names the strides for the assembler even where a short tile has
                // no row that needs them.
                "# strides {rsa} {ldc}",
                // Accumulators: C itself to add to it, else zero.
                "test {add}, {add}",
                "jz 3f",
                $(
                    concat!("vmovups ", $z0, ", [", $c, "]"),
                    concat!("vmovups ", $z1, ", [", $c, " + 64]"),
                    concat!("vmovups ", $z2, ", [", $c, " + 128]"),
                    concat!("vmovups ", $z3, ", [", $c, " + 192]"),
                )+
                "jmp 4f",
                "3:",
                $(
                    concat!("vpxord ", $z0, ", ", $z0, ", ", $z0),
                    concat!("vpxord ", $z1, ", ", $z1, ", ", $z1),
                    concat!("vpxord ", $z2, ", ", $z2, ", ", $z2),
                    concat!("vpxord ", $z3, ", ", $z3, ", ", $z3),
                )+
                // Loop over p: B row p (64 floats), A column p (one broadcast per row).
                "4:",
                "vmovups zmm24, [{b}]",
                "vmovups zmm25, [{b} + 64]",
                "vmovups zmm26, [{b} + 128]",
                "vmovups zmm27, [{b} + 192]",
                $(
                    concat!("vbroadcastss ", $bc, ", dword ptr [", $a, "]"),
                    concat!("vfmadd231ps ", $z0, ", ", $bc, ", zmm24"),
                    concat!("vfmadd231ps ", $z1, ", ", $bc, ", zmm25"),
                    concat!("vfmadd231ps ", $z2, ", ", $bc, ", zmm26"),
                    concat!("vfmadd231ps ", $z3, ", ", $bc, ", zmm27"),
                )+
                "add {lo}, {csa}",
                "add {hi}, {csa}",
                "add {b}, {ldb}",
                "dec {k}",
                "jnz 4b",
                // Store the tile.
                $(
                    concat!("vmovups [", $c, "], ", $z0),
                    concat!("vmovups [", $c, " + 64], ", $z1),
                    concat!("vmovups [", $c, " + 128], ", $z2),
                    concat!("vmovups [", $c, " + 192], ", $z3),
                )+
                // Leave the upper halves clean for the SSE code around us.
                "vzeroupper",
                add = in(reg) usize::from(g.add),
                lo = inout(reg) g.a => _,
                hi = inout(reg) g.a.wrapping_add(HALF * g.rsa) => _,
                rsa = in(reg) g.rsa * F,
                csa = in(reg) g.csa * F,
                b = inout(reg) g.b => _,
                ldb = in(reg) g.ldb * F,
                k = inout(reg) g.k => _,
                clo = in(reg) g.c,
                chi = in(reg) g.c.wrapping_add(HALF * g.ldc),
                ldc = in(reg) g.ldc * F,
                out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
                out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
                out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _,
                out("zmm12") _, out("zmm13") _, out("zmm14") _, out("zmm15") _,
                out("zmm16") _, out("zmm17") _, out("zmm18") _, out("zmm19") _,
                out("zmm20") _, out("zmm21") _, out("zmm22") _, out("zmm23") _,
                out("zmm24") _, out("zmm25") _, out("zmm26") _, out("zmm27") _,
                out("zmm28") _, out("zmm29") _, out("zmm30") _, out("zmm31") _,
                options(nostack),
            );
        }
    };
}

tile!(
    tile_6,
    ["zmm0", "zmm1", "zmm2", "zmm3", "zmm28", "{lo}", "{clo}"],
    [
        "zmm4",
        "zmm5",
        "zmm6",
        "zmm7",
        "zmm29",
        "{lo} + {rsa}",
        "{clo} + {ldc}"
    ],
    [
        "zmm8",
        "zmm9",
        "zmm10",
        "zmm11",
        "zmm30",
        "{lo} + {rsa}*2",
        "{clo} + {ldc}*2"
    ],
    ["zmm12", "zmm13", "zmm14", "zmm15", "zmm31", "{hi}", "{chi}"],
    [
        "zmm16",
        "zmm17",
        "zmm18",
        "zmm19",
        "zmm28",
        "{hi} + {rsa}",
        "{chi} + {ldc}"
    ],
    [
        "zmm20",
        "zmm21",
        "zmm22",
        "zmm23",
        "zmm29",
        "{hi} + {rsa}*2",
        "{chi} + {ldc}*2"
    ]
);

tile!(
    tile_4,
    ["zmm0", "zmm1", "zmm2", "zmm3", "zmm28", "{lo}", "{clo}"],
    [
        "zmm4",
        "zmm5",
        "zmm6",
        "zmm7",
        "zmm29",
        "{lo} + {rsa}",
        "{clo} + {ldc}"
    ],
    ["zmm8", "zmm9", "zmm10", "zmm11", "zmm30", "{hi}", "{chi}"],
    [
        "zmm12",
        "zmm13",
        "zmm14",
        "zmm15",
        "zmm31",
        "{hi} + {rsa}",
        "{chi} + {ldc}"
    ]
);

tile!(
    tile_2,
    ["zmm0", "zmm1", "zmm2", "zmm3", "zmm28", "{lo}", "{clo}"],
    ["zmm4", "zmm5", "zmm6", "zmm7", "zmm29", "{hi}", "{chi}"]
);
