//! `micrornn emulate`: boot the firmware in QEMU with a model in its partition.

use anyhow::{bail, Context, Result};
use micrornn_trainer::device::emulator::{
    build_firmware, check_qemu, partition_file, qemu_command,
};
use micrornn_trainer::device::stop::{self, Guarded};

use crate::cli::args::EmulateArgs;

pub fn run(a: EmulateArgs) -> Result<()> {
    // Caught from the start: a signal before QEMU starts must not leave it starting.
    stop::install()?;
    check_qemu()?;
    let spec = a.board.spec();
    spec.qemu_machine()?;
    // The model as the board's store leaves it after an upload (checked to fit first).
    let partition = match &a.model {
        Some(m) => {
            let bytes = std::fs::read(m).with_context(|| format!("cannot read {}", m.display()))?;
            Some(partition_file(&spec, &bytes).with_context(|| format!("{}", m.display()))?)
        }
        None => None,
    };
    let elf = match &a.elf {
        Some(e) => e.clone(),
        None => build_firmware(&spec)?,
    };
    let serial = match a.serial.as_str() {
        "stdio" => "stdio".to_string(),
        s if s.starts_with("tcp:") => {
            eprintln!("serial line on {s}: connect with `micrornn device --port {s} info` (QEMU waits for it)");
            format!("{s},server=on,wait=on,nodelay=on")
        }
        s => bail!("--serial must be `stdio` or `tcp:HOST:PORT`, not {s:?}"),
    };
    if serial == "stdio" {
        eprintln!("booting {} in QEMU; quit with Ctrl-A then X", spec.name);
    }
    let file = partition.as_ref().map(|f| f.path());
    if stop::requested() {
        bail!("stopped by a signal before qemu-system-arm started");
    }
    let child = qemu_command(&spec, &elf, file, &serial, a.icount)
        .spawn()
        .context("cannot start qemu-system-arm")?;
    // Ended with this command, whatever ends it (Ctrl-C, SIGTERM, SIGHUP).
    let status = Guarded::new(child)?.wait()?;
    if stop::requested() {
        bail!("stopped by a signal; qemu-system-arm ended");
    }
    if !status.success() {
        bail!("qemu-system-arm exited with {status}");
    }
    Ok(())
}
