//! Packed-layout kernels for Arm cores with the DSP instructions (Cortex-M4/M7): `SXTB16`
//! splits a weight word into two pairs of sign-extended 16-bit lanes, `SMLAD` multiplies a
//! pair with a packed activation word and adds both products to an accumulator.
//!
//! Core's intrinsics for these instructions are unstable, so the hot loop is written with
//! `asm!`: two rows at a time (they share every load of the activations), 32 columns per
//! iteration, in 86 instructions for 64 multiply-accumulates. The weights are read with
//! `LDR`, which takes any alignment on these cores (rows start anywhere in the model
//! file); the packed activations, word-aligned (`&[i32]`), with `LDM`.

use core::arch::asm;

use super::{dot_tail, packed_len};

/// The instructions for 4 columns of both rows: the two activation words of the 4
/// columns are in registers `$x0` and `$x1` (loaded before), the weights are read at `pa`
/// and `pb` (4 bytes each), the sums go to `a` and `b`; `w` and `t` are scratch.
macro_rules! columns_4 {
    ($x0:literal, $x1:literal) => {
        concat!(
            "ldr {w}, [{pa}], #4\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a}, {t}, ", $x0, ", {a}\n",
            "sxtb16 {t}, {w}, ror #8\n",
            "smlad {a}, {t}, ", $x1, ", {a}\n",
            "ldr {w}, [{pb}], #4\n",
            "sxtb16 {t}, {w}\n",
            "smlad {b}, {t}, ", $x0, ", {b}\n",
            "sxtb16 {t}, {w}, ror #8\n",
            "smlad {b}, {t}, ", $x1, ", {b}\n",
        )
    };
}

/// The instructions for 8 columns of both rows, their activation words in `r2`–`r5`.
macro_rules! columns_8 {
    () => {
        concat!(columns_4!("r2", "r3"), columns_4!("r4", "r5"))
    };
}

/// The whole groups of two rows (`cols / 4` groups of 4 columns, from `pa` and `pb`
/// against the packed words from `px`), added to `a` and `b`: a loop of 32 columns, then
/// one step of 16 if as many remain, then a loop of 4. Advances `pa`, `pb` and `px` past
/// what it read. Uses `w`, `t` and `r2`–`r5` as scratch and clobbers the flags.
macro_rules! groups_loops {
    () => {
        concat!(
            "cmp {px}, {end32}\n",
            "beq 3f\n",
            "2:\n",
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "cmp {px}, {end32}\n",
            "bne 2b\n",
            "3:\n",
            // 16 columns (8 words) left or more: one step of 16.
            "sub {t}, {end4}, {px}\n",
            "cmp {t}, #32\n",
            "blo 4f\n",
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "ldm {px}!, {{r2, r3, r4, r5}}\n",
            columns_8!(),
            "4:\n",
            "cmp {px}, {end4}\n",
            "beq 6f\n",
            "5:\n",
            "ldm {px}!, {{r2, r3}}\n",
            columns_4!("r2", "r3"),
            "cmp {px}, {end4}\n",
            "bne 5b\n",
            "6:\n",
        )
    };
}

/// [`super::matvec_q8_packed`]: all the pairs of rows in one assembly block when the rows
/// are whole groups of 4 columns, else pair by pair; an odd last row goes through the
/// two-row kernel as a pair of itself.
pub(super) fn matvec_q8_packed(w: &[u8], cols: usize, xp: &[i32], out: &mut [i32]) {
    let rows = out.len();
    let size = cols.checked_mul(rows).filter(|&size| size <= w.len());
    assert!(size.is_some() && xp.len() >= packed_len(cols));
    if cols == 0 {
        out.fill(0);
        return;
    }
    let pairs = rows / 2;
    let (w_pairs, w_last) = w[..cols * rows].split_at(2 * pairs * cols);
    let (out_pairs, out_last) = out.split_at_mut(2 * pairs);
    if cols % 4 == 0 && pairs > 0 {
        matvec_pairs(w_pairs, cols, xp, out_pairs);
    } else {
        for (w, o) in w_pairs
            .chunks_exact(2 * cols)
            .zip(out_pairs.chunks_exact_mut(2))
        {
            let (wa, wb) = w.split_at(cols);
            (o[0], o[1]) = dot2(wa, wb, xp);
        }
    }
    if let [o] = out_last {
        *o = dot2(w_last, w_last, xp).0;
    }
}

/// Two rows of the same length against the packed `xp`: the whole groups in assembly,
/// then the tail (fewer than 4 columns) in Rust.
fn dot2(wa: &[u8], wb: &[u8], xp: &[i32]) -> (i32, i32) {
    let cols = wa.len();
    let split = cols & !3;
    assert!(wb.len() == cols && xp.len() >= packed_len(cols));
    let (mut a, mut b) = (0i32, 0i32);
    let px = xp.as_ptr();
    // Safety:
    // - memory: the loops read `split` bytes from `wa` and from `wb` (4 per group) and
    //   `split / 2` words from `xp` (2 per group), all in bounds by the assertion above:
    //   `split <= cols` and `split / 2 <= packed_len(cols)`. `end32` (the end of the 32-column
    //   steps) and `end4` (the end of the groups) point inside or one past `xp`. Nothing is
    //   written to memory.
    // - alignment: `LDR` takes any address on these cores; `LDM` needs a word-aligned `px`,
    //   which `&[i32]` guarantees.
    // - registers: `r2`–`r5` are named (an `LDM` register list must be in ascending order)
    //   and declared clobbered, as are `w`, `t` and the flags. No stack use.
    unsafe {
        let end32 = px.add(split / 32 * 16);
        let end4 = px.add(split / 2);
        asm!(
            groups_loops!(),
            px = inout(reg) px => _,
            pa = inout(reg) wa.as_ptr() => _,
            pb = inout(reg) wb.as_ptr() => _,
            end32 = in(reg) end32,
            end4 = in(reg) end4,
            a = inout(reg) a,
            b = inout(reg) b,
            w = out(reg) _,
            t = out(reg) _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            options(nostack, readonly),
        );
    }
    let x_tail = &xp[split / 2..];
    (
        a + dot_tail(&wa[split..], x_tail),
        b + dot_tail(&wb[split..], x_tail),
    )
}

/// All the pairs of rows of `w` (`out.len()` rows, even, of `cols` bytes each, a multiple
/// of 4) against the packed `xp`, in one assembly block: per pair, the loops of
/// [`groups_loops`], then `STRD` of both sums to `out`; 17 instructions per pair besides
/// the loops' own.
fn matvec_pairs(w: &[u8], cols: usize, xp: &[i32], out: &mut [i32]) {
    assert!(cols % 4 == 0 && cols > 0 && out.len() % 2 == 0 && w.len() == cols * out.len());
    assert!(xp.len() >= cols / 2);
    let px = xp.as_ptr();
    // Safety:
    // - memory: for each pair of rows, `pa` and `pb` start at its two rows and the loops
    //   read `cols` bytes from each and `cols / 2` words from `xp`, all in bounds by the
    //   assertions above; after them `pb` is at the next pair's first row. Each pair's two
    //   sums go to `out` (`out_end` is one past its end). `end32` and `end4` point inside
    //   or one past `xp`. The block reserves 16 bytes of stack below `sp` (8-aligned, as it
    //   finds it) for `out`, `out_end`, the start of `xp` and `cols`, and gives them back.
    // - alignment: `LDR` takes any address on these cores; `LDM` needs a word-aligned `px`
    //   and `STRD` a word-aligned `out`, which `&[i32]` guarantees.
    // - registers: `r2`–`r5` bring in the values that go to the stack, then hold the
    //   activations; they are declared clobbered, as are all the other operands' registers
    //   and the flags.
    unsafe {
        let end32 = px.add(cols / 32 * 16);
        let end4 = px.add(cols / 2);
        asm!(
            "sub sp, sp, #16",
            "strd r2, r3, [sp]",
            "strd r4, r5, [sp, #8]",
            "1:",
            // A pair of rows: px = start of x, pb = pa + cols, sums = 0.
            "ldrd {px}, {w}, [sp, #8]",
            "add {pb}, {pa}, {w}",
            "mov {a}, #0",
            "mov {b}, #0",
            groups_loops!(),
            // Store the sums; the next pair starts where row b ended.
            "ldrd {t}, {w}, [sp]",
            "strd {a}, {b}, [{t}], #8",
            "str {t}, [sp]",
            "mov {pa}, {pb}",
            "cmp {t}, {w}",
            "bne 1b",
            "add sp, sp, #16",
            px = out(reg) _,
            pa = inout(reg) w.as_ptr() => _,
            pb = out(reg) _,
            end32 = in(reg) end32,
            end4 = in(reg) end4,
            a = out(reg) _,
            b = out(reg) _,
            w = out(reg) _,
            t = out(reg) _,
            inout("r2") out.as_mut_ptr() => _,
            inout("r3") out.as_mut_ptr().add(out.len()) => _,
            inout("r4") px => _,
            inout("r5") cols => _,
        );
    }
}
