//! `micrornn`: the command-line tool of micrornn.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = cli::args::Cli::parse();
    match cli::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (e.g. `micrornn generate | head`) is not an error.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Restores the default action of SIGPIPE, which Rust's runtime sets to "ignore": output into
/// a pipe whose reader has gone (`micrornn inspect M | head -1`) then ends the program
/// quietly, as it ends any Unix tool, instead of a panic in the first `println!` after it.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // Safety: called first in `main`, before any other thread exists; `signal` with
    // `SIG_DFL` installs no handler of ours, it only resets the disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
