//! One file per command.

mod bench;
mod classify;
mod demo;
mod device;
mod emulate;
mod eval;
mod export;
mod generate;
mod inspect;
mod train;

use anyhow::Result;

use crate::cli::Command;

/// Runs one command.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Classify(a) => classify::run(a),
        Command::Export(a) => export::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Device(a) => device::run(a),
        Command::Emulate(a) => emulate::run(a),
        Command::Demo(a) => demo::run(a),
    }
}
