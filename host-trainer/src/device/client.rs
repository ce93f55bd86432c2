//! A program's side of the serial protocol: send a command, collect the reply lines up
//! to `ok`, or fail with the device's `err` line. Over a serial port or a TCP socket
//! (an emulated board's UART).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// Something bytes go to and come from, whose reads wait at most a set time.
trait Port: Read + Write + Send {
    fn set_wait(&mut self, wait: Duration) -> std::io::Result<()>;
}

impl Port for TcpStream {
    fn set_wait(&mut self, wait: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(wait.max(Duration::from_millis(1))))
    }
}

impl Port for Box<dyn serialport::SerialPort> {
    fn set_wait(&mut self, wait: Duration) -> std::io::Result<()> {
        self.set_timeout(wait).map_err(std::io::Error::from)
    }
}

/// A connection to a device running the micrornn firmware.
pub struct DeviceClient {
    port: Box<dyn Port>,
    name: String,
    pending: Vec<u8>,
    /// The longest wait for a reply line.
    timeout: Duration,
    /// Lines the device sent before the session was synced (the boot banner, if the
    /// connection was there at boot).
    pub banner: Vec<String>,
}

impl std::fmt::Debug for DeviceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceClient")
            .field("port", &self.name)
            .finish()
    }
}

impl DeviceClient {
    /// Opens `tcp:HOST:PORT` or a serial device (115200 8N1), then turns echo off.
    /// `timeout` bounds every wait for a reply line.
    pub fn connect(spec: &str, timeout: Duration) -> Result<DeviceClient> {
        let port: Box<dyn Port> = if let Some(addr) = spec.strip_prefix("tcp:") {
            let stream =
                TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
            stream.set_read_timeout(Some(timeout))?;
            stream.set_nodelay(true)?;
            Box::new(stream)
        } else {
            let port = serialport::new(spec, 115_200)
                .timeout(timeout)
                .open()
                .with_context(|| format!("cannot open serial port {spec}"))?;
            Box::new(port)
        };
        let mut c = DeviceClient {
            port,
            name: spec.to_string(),
            pending: Vec::new(),
            timeout,
            banner: Vec::new(),
        };
        // A fresh line ends whatever was typed before; the banner and the echo of
        // this command are skipped up to its `ok`.
        c.send("\r\necho off")?;
        loop {
            let line = c.read_line()?;
            if line == "ok" || line.ends_with("> ok") {
                break;
            }
            c.banner.push(line);
        }
        Ok(c)
    }

    /// Sends one command and returns the lines before `ok`; an `err` line is an error.
    pub fn command(&mut self, line: &str) -> Result<Vec<String>> {
        self.send(line)?;
        let mut lines = Vec::new();
        loop {
            let l = self.read_line()?;
            if l == "ok" {
                return Ok(lines);
            }
            if let Some(reason) = l.strip_prefix("err ") {
                bail!("device: {reason}");
            }
            lines.push(l);
        }
    }

    fn send(&mut self, line: &str) -> Result<()> {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        self.send_raw(&bytes)
    }

    /// The port's name (`tcp:…` or the serial device).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends bytes as they are (no line end added).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.port
            .write_all(bytes)
            .and_then(|_| self.port.flush())
            .with_context(|| format!("cannot write to {}", self.name))
    }

    /// One line from the device if it arrives within `wait`, else `None` (a part of a
    /// line that arrived is kept for the next read).
    pub fn read_line_within(&mut self, wait: Duration) -> Result<Option<String>> {
        self.port
            .set_wait(wait)
            .with_context(|| format!("cannot set a timeout on {}", self.name))?;
        let line = self.read_line();
        self.port
            .set_wait(self.timeout)
            .with_context(|| format!("cannot set a timeout on {}", self.name))?;
        match line {
            Err(e) if e.downcast_ref::<TimedOut>().is_some() => Ok(None),
            other => other.map(Some),
        }
    }

    /// One line from the device, without its CR LF.
    fn read_line(&mut self) -> Result<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            let mut buf = [0u8; 512];
            let n = match self.port.read(&mut buf) {
                Ok(0) => bail!("{} closed the connection", self.name),
                Ok(n) => n,
                // A signal (Ctrl-C, caught by its handler) is not a read error.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Err(anyhow::Error::new(TimedOut(self.name.clone())));
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read from {}", self.name)),
            };
            self.pending.extend_from_slice(&buf[..n]);
        }
    }
}

/// The device sent no line within the wait.
#[derive(Debug)]
struct TimedOut(String);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} did not answer in time", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// Thousandths as the shortest decimal: 800 → `0.8`, 1000 → `1`.
pub fn milli_to_decimal(m: u32) -> String {
    let s = format!("{}.{:03}", m / 1000, m % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(milli_to_decimal(800), "0.8");
        assert_eq!(milli_to_decimal(1000), "1");
        assert_eq!(milli_to_decimal(0), "0");
        assert_eq!(milli_to_decimal(1250), "1.25");
        assert_eq!(milli_to_decimal(5), "0.005");
    }
}
