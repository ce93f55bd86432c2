//! The command line of the `micrornn` binary.
//!
//! In: the arguments, parsed by clap into [`args::Command`] (every command, flag and
//! default, with help text). Out: the command's effect (files written, lines printed),
//! or an error for `main` to print. One file per command; each calls the library
//! (`micrornn_trainer`) and holds no logic of its own beyond arguments and printing.

pub mod args;
mod bench;
mod classify;
mod demo;
mod device;
mod emulate;
mod eval;
mod eval_seq2seq;
mod export;
mod firmware;
mod generate;
mod import;
mod inspect;
mod inspect_seq2seq;
mod ports;
mod pronounce;
mod train;

use anyhow::Result;

use args::Command;

/// Runs one command.
pub fn run(cmd: Command) -> Result<()> {
    match cmd {
        Command::Train(a) => train::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Classify(a) => classify::run(a),
        Command::Export(a) => export::run(a),
        Command::Import(a) => import::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Generate(a) => generate::run(a),
        Command::Pronounce(a) => pronounce::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Device(a) => device::run(a),
        Command::Ports => ports::run(),
        Command::Firmware(a) => firmware::run(a),
        Command::Emulate(a) => emulate::run(a),
        Command::Demo(a) => demo::run(a),
    }
}
