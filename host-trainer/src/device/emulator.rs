//! Booting the firmware in QEMU with a model in its partition.
//!
//! The model goes in as the board's model store would leave it after an upload (the model
//! in slot A and its commit record: [`crate::export::partition`]), written into the
//! partition by QEMU's generic loader before the core starts: the firmware's store finds
//! it at boot as on a board flashed with `micrornn export --board B`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::device::boards::BoardSpec;
use crate::device::client::DeviceClient;
use crate::device::stop::Guarded;
use crate::export::board_file::{model_file, FileFormat};

/// Builds (or finds up to date) the firmware for `spec`, a board QEMU emulates, and returns
/// its ELF.
pub fn build_firmware(spec: &BoardSpec) -> Result<PathBuf> {
    spec.qemu_machine()?;
    crate::device::build::build(spec)
}

/// A file of `spec`'s model partition holding `model` (a `.mrnn` file, checked to load and
/// fit the board), its bytes from the partition's start, for [`qemu_command`].
pub fn partition_file(spec: &BoardSpec, model: &[u8]) -> Result<tempfile::NamedTempFile> {
    let (bytes, _) = model_file(spec, model, FileFormat::Bin)?;
    raw_partition_file(&bytes)
}

/// A file of partition bytes as they are (tests: a damaged partition), for [`qemu_command`].
pub fn raw_partition_file(bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix("micrornn-partition-")
        .suffix(".bin")
        .tempfile()
        .context("cannot create a temporary file for the partition")?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .context("cannot write the partition file")?;
    Ok(file)
}

/// The QEMU command line booting `elf` on `spec`'s machine, with the bytes of `partition`
/// (a [`partition_file`]) loaded at the model partition's start and the UART on `serial`
/// (a QEMU `-serial` argument). The QEMU it starts ends when this process ends, even
/// killed ([`crate::device::stop::end_with_parent`]).
pub fn qemu_command(
    spec: &BoardSpec,
    elf: &Path,
    partition: Option<&Path>,
    serial: &str,
    icount: bool,
) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    crate::device::stop::end_with_parent(&mut cmd);
    cmd.args([
        "-machine",
        spec.machine.unwrap_or_default(),
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        serial,
    ]);
    cmd.args(["-semihosting-config", "enable=on,target=native"]);
    if icount {
        cmd.args(["-icount", "shift=0"]);
    }
    cmd.arg("-kernel").arg(elf);
    if let Some(p) = partition {
        let loader = format!(
            "loader,file={},addr={:#x},force-raw=on",
            p.display(),
            spec.partition_addr
        );
        cmd.args(["-device", &loader]);
    }
    cmd
}

/// Checks that `qemu-system-arm` can be run.
pub fn check_qemu() -> Result<()> {
    match Command::new("qemu-system-arm")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        _ => bail!(
            "qemu-system-arm is not installed (Debian/Ubuntu: apt-get install qemu-system-arm)"
        ),
    }
}

/// A running emulated board whose UART listens on a local TCP port.
#[derive(Debug)]
pub struct Emulator {
    child: Guarded,
    /// The partition file QEMU loads (kept until QEMU is gone).
    _partition: Option<tempfile::NamedTempFile>,
    /// The `--port` for [`crate::device::client::DeviceClient`]: `tcp:127.0.0.1:PORT`.
    pub port: String,
}

impl Emulator {
    /// Boots `elf` with `model` (a `.mrnn` file) in the model store, or an empty partition,
    /// and waits until its UART accepts a connection.
    pub fn boot(
        spec: &BoardSpec,
        elf: &Path,
        model: Option<&Path>,
        icount: bool,
    ) -> Result<Emulator> {
        let partition = match model {
            Some(m) => {
                let bytes =
                    std::fs::read(m).with_context(|| format!("cannot read {}", m.display()))?;
                Some(partition_file(spec, &bytes).with_context(|| format!("{}", m.display()))?)
            }
            None => None,
        };
        Emulator::start(spec, elf, partition, icount)
    }

    /// Boots `elf` with `bytes` at the start of its model partition, whatever they are.
    pub fn boot_raw(spec: &BoardSpec, elf: &Path, bytes: &[u8], icount: bool) -> Result<Emulator> {
        Emulator::start(spec, elf, Some(raw_partition_file(bytes)?), icount)
    }

    fn start(
        spec: &BoardSpec,
        elf: &Path,
        partition: Option<tempfile::NamedTempFile>,
        icount: bool,
    ) -> Result<Emulator> {
        spec.qemu_machine()?;
        check_qemu()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let serial = format!("tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on");
        let file = partition.as_ref().map(|f| f.path());
        let child = qemu_command(spec, elf, file, &serial, icount)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start qemu-system-arm")?;
        let child = Guarded::new(child)?;
        // Pass QEMU's messages on, except its note that it waits for the connection.
        if let Some(err) = child.take_stderr() {
            std::thread::spawn(move || {
                for line in BufReader::new(err).lines().map_while(Result::ok) {
                    if !line.contains("QEMU waiting for connection") {
                        eprintln!("{line}");
                    }
                }
            });
        }
        Ok(Emulator {
            child,
            _partition: partition,
            port: format!("tcp:127.0.0.1:{port}"),
        })
    }

    /// Connects to the board's UART (retrying while QEMU starts) and syncs the session.
    pub fn client(&mut self, timeout: Duration) -> Result<DeviceClient> {
        let start = Instant::now();
        loop {
            match DeviceClient::connect(&self.port, timeout) {
                Ok(c) => return Ok(c),
                Err(e) => {
                    if let Some(status) = self.child.try_wait()? {
                        bail!("qemu-system-arm exited ({status})");
                    }
                    if start.elapsed() > Duration::from_secs(20) {
                        return Err(e.context(
                            "the emulated board's serial port did not answer within 20 s",
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}
