//! Board self-test, for every target (`cargo run --release --bin selftest`, add
//! `--target thumbv6m-none-eabi` for the micro:bit, `--target thumbv8m.main-none-eabihf`
//! for the mps2-an505). Prints the tick calibration, the model partition's state and the
//! stack figures, then obeys one byte from the UART: `p` panics, `f` executes an undefined
//! instruction (HardFault), `i` raises an interrupt no board uses (device interrupt 31),
//! `w` checks that the tick counter never goes back over 2^25 ticks (two SysTick wraps on
//! the MPS2 boards), `n` checks the partition's flash driver on its last page (see
//! `flash_check`), `q` exits with success. A panic or fault must print its line and end
//! QEMU with status 1.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

use embedded_io::{Read, Write};
use embedded_storage::nor_flash::{NorFlash, NorFlashErrorKind, ReadNorFlash};
use micrornn_firmware::board::current;
use micrornn_firmware::{fault, icount, partition, reg, stack};

reg!(
    ISER0 = 0xE000_E100,
    "Safety: NVIC ISER0 (set-enable), on every Cortex-M"
);
reg!(
    ISPR0 = 0xE000_E200,
    "Safety: NVIC ISPR0 (set-pending), on every Cortex-M"
);

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut uart = micrornn_firmware::board::Uart::init();
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
    let Some(mut flash) = partition::take() else {
        fault::fail("the partition is taken twice")
    };
    let model = flash.mapped();
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
        stack::peak(),
        stack::size(),
        stack::static_ram()
    );
    let _ = write!(
        uart,
        "command (p panic, f fault, i interrupt, w wraps, n flash, q quit)?\r\n"
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
                // Enabling and pending interrupt 31 only runs DefaultHandler.
                ISER0.write(1 << 31);
                ISPR0.write(1 << 31);
                cortex_m::asm::isb();
            }
            b'w' => {
                let ok = monotonic(2 << 24);
                let _ = write!(uart, "ticks monotonic over 2^25 ticks: {ok}\r\n");
            }
            b'n' => {
                let page = partition::Partition::ERASE_SIZE;
                let _ = match flash_check(&mut flash) {
                    Ok(()) => write!(uart, "flash ok: {page}-byte pages, NOR rules kept\r\n"),
                    Err(step) => write!(uart, "flash failed: {step}\r\n"),
                };
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

/// Checks the partition's driver on its last page (a model never reaches it in the tests):
/// erase gives 0xFF and leaves the page before it alone; written words read back; a write
/// that needs a 0 bit to become 1 is refused; misaligned and out-of-bounds requests are
/// refused; a second erase clears the page again. Returns the first step that failed.
fn flash_check(flash: &mut partition::Partition) -> Result<(), &'static str> {
    const PAGE: usize = partition::Partition::ERASE_SIZE;
    let end = flash.capacity();
    let last = (end - PAGE) as u32;
    let before = checksum(flash.mapped().get(end - 2 * PAGE..end - PAGE));
    flash.erase(last, end as u32).map_err(|_| "erase")?;
    if !flash.mapped()[last as usize..].iter().all(|&b| b == 0xFF) {
        return Err("erased page reads 0xFF");
    }
    if checksum(flash.mapped().get(end - 2 * PAGE..end - PAGE)) != before {
        return Err("erase leaves the page before alone");
    }
    let data = [0x12, 0x34, 0x56, 0x78, 0xA5, 0x00, 0xFF, 0x0F];
    flash.write(last, &data).map_err(|_| "write")?;
    let mut back = [0u8; 8];
    flash.read(last, &mut back).map_err(|_| "read")?;
    if back != data {
        return Err("written words read back");
    }
    let refused = |r: Result<(), NorFlashErrorKind>, kind| r == Err(kind);
    if !refused(flash.write(last, &[0xFF; 4]), NorFlashErrorKind::Other) {
        return Err("a 1 over a 0 is refused");
    }
    if !refused(
        flash.write(last + 10, &[0; 4]),
        NorFlashErrorKind::NotAligned,
    ) {
        return Err("a misaligned write is refused");
    }
    if !refused(
        flash.write(end as u32, &[0; 4]),
        NorFlashErrorKind::OutOfBounds,
    ) {
        return Err("a write past the end is refused");
    }
    if !refused(
        flash.erase(last + 4, end as u32),
        NorFlashErrorKind::NotAligned,
    ) {
        return Err("a misaligned erase is refused");
    }
    flash.erase(last, end as u32).map_err(|_| "second erase")?;
    if !flash.mapped()[last as usize..].iter().all(|&b| b == 0xFF) {
        return Err("the second erase clears the words");
    }
    Ok(())
}

/// A sum of `bytes` (None for no bytes), to see whether they changed.
fn checksum(bytes: Option<&[u8]>) -> Option<u32> {
    let mut sum = 0u32;
    for &b in bytes? {
        sum = sum.rotate_left(5) ^ b as u32;
    }
    Some(sum)
}
