//! The firmware for QEMU `mps2-an386` (Cortex-M4F), target thumbv7em-none-eabihf:
//! `cargo run --release --bin mps2-an386 [-- QEMU flags]`.
#![no_std]
#![no_main]

#[cfg(not(board = "mps2-an386"))]
compile_error!("the mps2-an386 binary is built with --target thumbv7em-none-eabihf");

use micrornn::session::Buffers;
use micrornn_firmware::board::mps2_an386 as board;

#[cortex_m_rt::entry]
fn main() -> ! {
    // The session's buffers (cortex-m-rt hands each `static mut` here out once, as `&'static mut`).
    static mut ARENA: [i32; board::ARENA_LEN] = [0; board::ARENA_LEN];
    static mut LOGITS: [i32; board::LOGITS_LEN] = [0; board::LOGITS_LEN];
    board::run(Buffers {
        arena: ARENA,
        logits: LOGITS,
    })
}
