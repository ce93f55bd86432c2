//! A name generator in a `no_std` firmware: the model is part of the program image
//! (`include_bytes!`), the network's RAM is sized at compile time ([`arena_words`]), and
//! each character goes to a callback (here a buffer; on a board, its UART).
//!
//! Build it for a Cortex-M4F (the linker gets `memory.x`, beside this file, from the
//! crate's build script):
//!
//! ```text
//! cargo build -p micrornn --example embedded_name --target thumbv7em-none-eabihf
//! qemu-system-arm -machine mps2-an386 -nographic -semihosting \
//!     -kernel target/thumbv7em-none-eabihf/debug/examples/embedded_name
//! ```
//!
//! QEMU prints the name through semihosting and exits. On the host,
//! `cargo run -p micrornn --example embedded_name` runs the same steps.
#![cfg_attr(target_os = "none", no_std, no_main)]

use micrornn::{arena_words, generate, CellKind, Model, NetQ, Rng, Settings};

/// The model, in flash with the program: a 1-layer RNN of 48 units trained on names.
static MODEL: &[u8] = include_bytes!("../tests/fixtures/names.mrnn");

/// Network RAM for any model up to 1 layer of 64 units of RNN (here 96 words).
const ARENA_WORDS: usize = arena_words(CellKind::Rnn, 1, 64);
/// One output per token: room for a vocabulary of up to 64 tokens.
const MAX_OUTPUTS: usize = 64;

/// Generates one name, its characters through `emit`; returns its length, or why there
/// is no name (a damaged model, one larger than the RAM above, ...).
fn generate_name(seed: u64, emit: impl FnMut(char)) -> micrornn::Result<usize> {
    let model = Model::load(MODEL)?; // checks every byte once; the weights stay in flash
    let mut arena = [0i32; ARENA_WORDS];
    let mut logits = [0i32; MAX_OUTPUTS];
    let mut net = NetQ::new(&model, &mut arena)?;
    let mut rng = Rng::new(seed); // the same seed gives the same name
    let settings = Settings::default(); // temperature 1, at most 24 characters
    generate(
        &mut net,
        &model.vocab,
        &settings,
        "",
        &mut rng,
        &mut logits,
        emit,
    )
}

/// One line: the name, or the error's message (written without `core::fmt`).
fn line(seed: u64) -> heapless::String<100> {
    let mut line = heapless::String::new();
    if let Err(e) = generate_name(seed, |c| {
        let _ = line.push(c);
    }) {
        line.clear();
        e.write_to(&mut Line(&mut line));
    }
    let _ = line.push('\n');
    line
}

/// A [`micrornn::Text`] sink into a string (long messages are cut).
struct Line<'a>(&'a mut heapless::String<100>);

impl micrornn::Text for Line<'_> {
    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            if self.0.push(c).is_err() {
                break;
            }
        }
    }
}

#[cfg(target_os = "none")]
#[cortex_m_rt::entry]
fn main() -> ! {
    use cortex_m_semihosting::{debug, hio};
    let line = line(1);
    if let Ok(mut out) = hio::hstdout() {
        let _ = out.write_all(line.as_bytes());
    }
    debug::exit(debug::EXIT_SUCCESS); // ends QEMU; on a board, its work goes on here
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    loop {
        core::hint::spin_loop();
    }
}

#[cfg(not(target_os = "none"))]
fn main() {
    print!("{}", line(1));
}
