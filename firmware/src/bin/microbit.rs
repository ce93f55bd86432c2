//! The firmware for the BBC micro:bit v1 and QEMU `microbit` (nRF51822, Cortex-M0), target
//! thumbv6m-none-eabi:
//! `cargo run --release --target thumbv6m-none-eabi --features microbit --bin microbit [-- QEMU flags]`.
#![no_std]
#![no_main]

#[cfg(not(board = "microbit"))]
compile_error!("the microbit binary is built with --target thumbv6m-none-eabi");

use micrornn::session::Buffers;
use micrornn_firmware::board::microbit as board;

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
