//! AVX-512 matrix-multiply kernel for [`super::gemm`]: 6 × 64 register tiles in inline assembly.
//!
//! Same contract and loop structure as [`super::gemm_avx2`], with tiles twice as
//! wide: 24 sixteen-lane accumulators (`zmm0..zmm23`), four `B` vectors per `k`
//! step (`zmm24..zmm27`) and one broadcast per tile row (`zmm28..zmm31`), i.e.
//! 24 FMAs per 10 loads. Written with `asm!` rather than intrinsics because the
//! AVX-512 intrinsics and `target_feature`s need a newer Rust than the workspace's
//! minimum; the assembler accepts the instructions regardless, and the caller only
//! runs them after detecting AVX-512F at run time.
//!
//! Only whole tiles run here: the last `m % 6` rows are zero-padded to a tile
//! through stack copies, the last `n % 64` columns go to the AVX2 kernel. `k` is
//! cut into blocks of [`KC`] so the `(KC, 64)` panel of `B` (32 KiB) stays in L1
//! while the row tiles pass over it.

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
    if n_full > 0 {
        // The last `rest` (< MR) rows run as a whole tile through zero-padded copies:
        // still faster than the narrower AVX2 tiles, which are latency-bound when short.
        let mut a_pad = [0.0f32; MR * KC];
        let mut c_pad = [0.0f32; MR * NR];
        for k0 in (0..g.k).step_by(KC) {
            let kc = (g.k - k0).min(KC);
            // Later depth blocks add to what the earlier ones stored.
            let add = g.add || k0 > 0;
            for r in 0..rest {
                for (p, x) in a_pad[r * KC..r * KC + kc].iter_mut().enumerate() {
                    *x = *g.a.add((m_full + r) * g.rsa + (k0 + p) * g.csa);
                }
            }
            for j0 in (0..n_full).step_by(NR) {
                let b = g.b.wrapping_add(k0 * g.ldb + j0);
                for i0 in (0..m_full).step_by(MR) {
                    tile(&Gemm {
                        m: MR,
                        n: NR,
                        k: kc,
                        a: g.a.wrapping_add(i0 * g.rsa + k0 * g.csa),
                        b,
                        c: g.c.wrapping_add(i0 * g.ldc + j0),
                        add,
                        ..*g
                    });
                }
                if rest > 0 {
                    let c = g.c.add(m_full * g.ldc + j0);
                    if add {
                        for r in 0..rest {
                            std::ptr::copy_nonoverlapping(
                                c.add(r * g.ldc),
                                c_pad[r * NR..].as_mut_ptr(),
                                NR,
                            );
                        }
                    }
                    let padded = Gemm {
                        m: MR,
                        n: NR,
                        k: kc,
                        a: a_pad.as_ptr(),
                        rsa: KC,
                        csa: 1,
                        b,
                        ldb: g.ldb,
                        c: c_pad.as_mut_ptr(),
                        ldc: NR,
                        add,
                    };
                    tile(&padded);
                    for r in 0..rest {
                        std::ptr::copy_nonoverlapping(
                            c_pad[r * NR..].as_ptr(),
                            c.add(r * g.ldc),
                            NR,
                        );
                    }
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

/// One 6 × 64 tile: `C[6, 64] (+)= A[6, k] @ B[k, 64]`, `g.m = 6`, `g.n = 64`, `g.k >= 1`.
///
/// # Safety
/// As [`matmul`], for this tile.
#[inline]
unsafe fn tile(g: &Gemm) {
    const F: usize = std::mem::size_of::<f32>();
    debug_assert!(g.m == MR && g.n == NR && g.k >= 1);
    // Rows 0..3 are addressed from a0/c0, rows 3..6 from a3/c3, with the row stride
    // as index register (scales 1 and 2 of it).
    asm!(
        // Accumulators: C itself to add to it, else zero.
        "test {add}, {add}",
        "jz 3f",
        "vmovups zmm0, [{c0}]",
        "vmovups zmm1, [{c0} + 64]",
        "vmovups zmm2, [{c0} + 128]",
        "vmovups zmm3, [{c0} + 192]",
        "vmovups zmm4, [{c0} + {ldc}]",
        "vmovups zmm5, [{c0} + {ldc} + 64]",
        "vmovups zmm6, [{c0} + {ldc} + 128]",
        "vmovups zmm7, [{c0} + {ldc} + 192]",
        "vmovups zmm8, [{c0} + {ldc}*2]",
        "vmovups zmm9, [{c0} + {ldc}*2 + 64]",
        "vmovups zmm10, [{c0} + {ldc}*2 + 128]",
        "vmovups zmm11, [{c0} + {ldc}*2 + 192]",
        "vmovups zmm12, [{c3}]",
        "vmovups zmm13, [{c3} + 64]",
        "vmovups zmm14, [{c3} + 128]",
        "vmovups zmm15, [{c3} + 192]",
        "vmovups zmm16, [{c3} + {ldc}]",
        "vmovups zmm17, [{c3} + {ldc} + 64]",
        "vmovups zmm18, [{c3} + {ldc} + 128]",
        "vmovups zmm19, [{c3} + {ldc} + 192]",
        "vmovups zmm20, [{c3} + {ldc}*2]",
        "vmovups zmm21, [{c3} + {ldc}*2 + 64]",
        "vmovups zmm22, [{c3} + {ldc}*2 + 128]",
        "vmovups zmm23, [{c3} + {ldc}*2 + 192]",
        "jmp 4f",
        "3:",
        "vpxord zmm0, zmm0, zmm0",
        "vpxord zmm1, zmm1, zmm1",
        "vpxord zmm2, zmm2, zmm2",
        "vpxord zmm3, zmm3, zmm3",
        "vpxord zmm4, zmm4, zmm4",
        "vpxord zmm5, zmm5, zmm5",
        "vpxord zmm6, zmm6, zmm6",
        "vpxord zmm7, zmm7, zmm7",
        "vpxord zmm8, zmm8, zmm8",
        "vpxord zmm9, zmm9, zmm9",
        "vpxord zmm10, zmm10, zmm10",
        "vpxord zmm11, zmm11, zmm11",
        "vpxord zmm12, zmm12, zmm12",
        "vpxord zmm13, zmm13, zmm13",
        "vpxord zmm14, zmm14, zmm14",
        "vpxord zmm15, zmm15, zmm15",
        "vpxord zmm16, zmm16, zmm16",
        "vpxord zmm17, zmm17, zmm17",
        "vpxord zmm18, zmm18, zmm18",
        "vpxord zmm19, zmm19, zmm19",
        "vpxord zmm20, zmm20, zmm20",
        "vpxord zmm21, zmm21, zmm21",
        "vpxord zmm22, zmm22, zmm22",
        "vpxord zmm23, zmm23, zmm23",
        // Loop over p: B row p (64 floats), A column p (one broadcast per row).
        "4:",
        "vmovups zmm24, [{b}]",
        "vmovups zmm25, [{b} + 64]",
        "vmovups zmm26, [{b} + 128]",
        "vmovups zmm27, [{b} + 192]",
        "vbroadcastss zmm28, dword ptr [{a0}]",
        "vbroadcastss zmm29, dword ptr [{a0} + {rsa}]",
        "vfmadd231ps zmm0, zmm28, zmm24",
        "vfmadd231ps zmm1, zmm28, zmm25",
        "vfmadd231ps zmm2, zmm28, zmm26",
        "vfmadd231ps zmm3, zmm28, zmm27",
        "vfmadd231ps zmm4, zmm29, zmm24",
        "vfmadd231ps zmm5, zmm29, zmm25",
        "vfmadd231ps zmm6, zmm29, zmm26",
        "vfmadd231ps zmm7, zmm29, zmm27",
        "vbroadcastss zmm30, dword ptr [{a0} + {rsa}*2]",
        "vbroadcastss zmm31, dword ptr [{a3}]",
        "vfmadd231ps zmm8, zmm30, zmm24",
        "vfmadd231ps zmm9, zmm30, zmm25",
        "vfmadd231ps zmm10, zmm30, zmm26",
        "vfmadd231ps zmm11, zmm30, zmm27",
        "vfmadd231ps zmm12, zmm31, zmm24",
        "vfmadd231ps zmm13, zmm31, zmm25",
        "vfmadd231ps zmm14, zmm31, zmm26",
        "vfmadd231ps zmm15, zmm31, zmm27",
        "vbroadcastss zmm28, dword ptr [{a3} + {rsa}]",
        "vbroadcastss zmm29, dword ptr [{a3} + {rsa}*2]",
        "vfmadd231ps zmm16, zmm28, zmm24",
        "vfmadd231ps zmm17, zmm28, zmm25",
        "vfmadd231ps zmm18, zmm28, zmm26",
        "vfmadd231ps zmm19, zmm28, zmm27",
        "vfmadd231ps zmm20, zmm29, zmm24",
        "vfmadd231ps zmm21, zmm29, zmm25",
        "vfmadd231ps zmm22, zmm29, zmm26",
        "vfmadd231ps zmm23, zmm29, zmm27",
        "add {a0}, {csa}",
        "add {a3}, {csa}",
        "add {b}, {ldb}",
        "dec {k}",
        "jnz 4b",
        // Store the tile.
        "vmovups [{c0}], zmm0",
        "vmovups [{c0} + 64], zmm1",
        "vmovups [{c0} + 128], zmm2",
        "vmovups [{c0} + 192], zmm3",
        "vmovups [{c0} + {ldc}], zmm4",
        "vmovups [{c0} + {ldc} + 64], zmm5",
        "vmovups [{c0} + {ldc} + 128], zmm6",
        "vmovups [{c0} + {ldc} + 192], zmm7",
        "vmovups [{c0} + {ldc}*2], zmm8",
        "vmovups [{c0} + {ldc}*2 + 64], zmm9",
        "vmovups [{c0} + {ldc}*2 + 128], zmm10",
        "vmovups [{c0} + {ldc}*2 + 192], zmm11",
        "vmovups [{c3}], zmm12",
        "vmovups [{c3} + 64], zmm13",
        "vmovups [{c3} + 128], zmm14",
        "vmovups [{c3} + 192], zmm15",
        "vmovups [{c3} + {ldc}], zmm16",
        "vmovups [{c3} + {ldc} + 64], zmm17",
        "vmovups [{c3} + {ldc} + 128], zmm18",
        "vmovups [{c3} + {ldc} + 192], zmm19",
        "vmovups [{c3} + {ldc}*2], zmm20",
        "vmovups [{c3} + {ldc}*2 + 64], zmm21",
        "vmovups [{c3} + {ldc}*2 + 128], zmm22",
        "vmovups [{c3} + {ldc}*2 + 192], zmm23",
        // Leave the upper halves clean for the SSE code around us.
        "vzeroupper",
        add = in(reg) usize::from(g.add),
        a0 = inout(reg) g.a => _,
        a3 = inout(reg) g.a.wrapping_add(3 * g.rsa) => _,
        rsa = in(reg) g.rsa * F,
        csa = in(reg) g.csa * F,
        b = inout(reg) g.b => _,
        ldb = in(reg) g.ldb * F,
        k = inout(reg) g.k => _,
        c0 = in(reg) g.c,
        c3 = in(reg) g.c.wrapping_add(3 * g.ldc),
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
