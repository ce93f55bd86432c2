//! `micrornn device … upload M.mrnn`: check the model against the device, send it with a
//! progress bar, print the device's new model line.

use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micrornn_trainer::device::client::DeviceClient;
use micrornn_trainer::device::stop;
use micrornn_trainer::device::upload::{check, model_crc, send, DeviceFacts, Options, Watch};

use crate::cli::args::DeviceUploadArgs;

pub fn run(dev: &mut DeviceClient, a: &DeviceUploadArgs, timeout: Duration) -> Result<()> {
    let file = a.model.display().to_string();
    let bytes = std::fs::read(&a.model).with_context(|| format!("cannot read {file}"))?;
    let facts = DeviceFacts::ask(dev)?;
    let opts = Options {
        force: a.force,
        single_slot: a.single_slot,
    };
    check(&file, &bytes, &facts, opts)?;

    // From the first byte on, Ctrl-C ends the upload with an error line (the device
    // gives up after its timeout and keeps its old model).
    stop::install()?;
    let mut bar = Bar(progress_bar(bytes.len() as u64));
    let sent = send(dev, &bytes, a.single_slot, timeout, &mut bar);
    bar.0.finish_and_clear();
    let sent = sent.map_err(|e| match stop::requested() {
        // The first line says how far it got and what the device serves.
        true => anyhow!("interrupted by Ctrl-C: {e}"),
        false => e,
    })?;

    let after = DeviceFacts::ask(dev)?;
    let crc = model_crc(&bytes);
    let slot = match &after.serving {
        Some(s) if s.crc == crc => format!("slot {} seq {}", s.slot, s.seq),
        Some(s) => bail!(
            "the device acknowledged the upload but serves crc {:08x}, not {crc:08x}",
            s.crc
        ),
        None => "no slot reported".to_string(),
    };
    let secs = sent.elapsed.as_secs_f64();
    eprintln!(
        "sent {file}: {} bytes in {secs:.1} s, {} on the wire ({}-byte chunks, {} sent again); {slot}",
        bytes.len(),
        sent.wire_bytes,
        sent.chunk,
        sent.resent,
    );
    println!("{}", sent.model_line);
    Ok(())
}

/// The progress bar on stderr: bytes acknowledged, bytes per second, time left.
fn progress_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template(
            "upload [{bar:30}] {bytes}/{total_bytes}  {bytes_per_sec}  {eta} left",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar
}

struct Bar(ProgressBar);

impl Watch for Bar {
    fn progress(&mut self, acked: u64, _len: u64) {
        self.0.set_position(acked);
    }

    fn stopped(&self) -> bool {
        stop::requested()
    }
}
