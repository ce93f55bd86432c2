//! A program's side of the serial protocol: send a command, collect the reply lines up
//! to `ok`, or fail with the device's `err` line. Over a serial port or a TCP socket
//! (an emulated board's UART).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

/// Something bytes go to and come from.
trait Port: Read + Write + Send {}
impl<T: Read + Write + Send> Port for T {}

/// A connection to a device running the micrornn firmware.
pub struct DeviceClient {
    port: Box<dyn Port>,
    name: String,
    pending: Vec<u8>,
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
        self.port
            .write_all(&bytes)
            .and_then(|_| self.port.flush())
            .with_context(|| format!("cannot write to {}", self.name))
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
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    ) =>
                {
                    return Err(anyhow!("{} did not answer in time", self.name));
                }
                Err(e) => return Err(e).with_context(|| format!("cannot read from {}", self.name)),
            };
            self.pending.extend_from_slice(&buf[..n]);
        }
    }
}

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
