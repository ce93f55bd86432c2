//! Board self-test, for either target (`cargo run --release --bin selftest`, add
//! `--target thumbv6m-none-eabi` for the micro:bit). Prints the tick calibration, the
//! model partition's state and the stack figures, then obeys one byte from the UART:
//! `p` panics, `f` executes an undefined instruction (HardFault), `i` raises an interrupt
//! no board uses (device interrupt 31), `w` checks that the tick counter never goes back
//! over 2^25 ticks (two SysTick wraps on the mps2-an386), `q` exits with success. A panic
//! or fault must print its line and end QEMU with status 1.
#![no_std]
#![no_main]

use embedded_io::{Read, Write};
use micrornn_firmware::board::current;
use micrornn_firmware::mmio::Reg;
use micrornn_firmware::{fault, icount, partition, stack};

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut uart = current::Uart::init();
    current::start_ticks();
    let _ = write!(uart, "selftest on {}\r\n", current::NAME);
    for n in [10_000, 100_000] {
        let (instructions, ticks) = icount::measure(current::ticks, n);
        let milli = instructions * 1000 / ticks.max(1);
        let _ = write!(
            uart,
            "calibration: {instructions} instructions in {ticks} ticks = {}.{:03} per tick (board: {})\r\n",
            milli / 1000,
            milli % 1000,
            current::INSTRUCTIONS_PER_TICK
        );
    }
    let detected = icount::detect(current::ticks, current::INSTRUCTIONS_PER_TICK);
    let _ = write!(
        uart,
        "instructions per tick: {detected} (0 = not under -icount shift=0)\r\n"
    );
    let model = partition::bytes();
    let _ = write!(
        uart,
        "partition: {:#010x} {} bytes, ",
        model.as_ptr() as usize,
        model.len()
    );
    let _ = match micrornn::Model::load(model) {
        Ok(m) => write!(
            uart,
            "model hidden {} vocab {}\r\n",
            m.hidden(),
            m.vocab_size()
        ),
        Err(e) => write!(uart, "no valid model: {e}\r\n"),
    };
    let _ = write!(
        uart,
        "stack peak {} size {} static_ram {}\r\n",
        stack::stack_peak(),
        stack::stack_size(),
        stack::static_ram()
    );
    let _ = write!(
        uart,
        "command (p panic, f fault, i interrupt, w wraps, q quit)?\r\n"
    );
    loop {
        let mut byte = [0u8];
        if uart.read(&mut byte).is_err() {
            continue;
        }
        match byte[0] {
            b'p' => panic!("selftest"),
            b'f' => cortex_m::asm::udf(),
            b'i' => {
                // Safety: NVIC ISER0 and ISPR0 (set-enable, set-pending), present on every
                // Cortex-M; enabling and pending interrupt 31 only runs DefaultHandler.
                let (iser0, ispr0) = unsafe { (Reg::at(0xE000_E100), Reg::at(0xE000_E200)) };
                iser0.write(1 << 31);
                ispr0.write(1 << 31);
                cortex_m::asm::isb();
            }
            b'w' => {
                let ok = monotonic(2 << 24);
                let _ = write!(uart, "ticks monotonic over 2^25 ticks: {ok}\r\n");
            }
            b'q' => fault::exit(true),
            _ => {}
        }
    }
}

/// Reads the tick counter until it has advanced `span` ticks; false if it ever went back.
fn monotonic(span: u64) -> bool {
    let start = current::ticks();
    let mut last = start;
    while last - start < span {
        let now = current::ticks();
        if now < last {
            return false;
        }
        last = now;
    }
    true
}
