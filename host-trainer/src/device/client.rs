//! A program's side of the serial protocol: send a command, collect the reply lines up
//! to `ok`, or fail with the device's `err` line. Over a serial port or a TCP socket
//! (an emulated board's UART).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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

/// Silence after which the first command of a connection is sent again.
const HANDSHAKE_RETRY: Duration = Duration::from_secs(1);

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
        // this command are skipped up to its `ok`. A board still starting (just reset or
        // plugged in) may lose the first bytes, so after each second of silence the
        // command goes again, until the whole wait has passed.
        let start = Instant::now();
        let mut sent = 0;
        c.port.set_wait(HANDSHAKE_RETRY.min(timeout))?;
        loop {
            if sent == 0 {
                c.send("\r\necho off")?;
                sent += 1;
            }
            match c.read_line() {
                Ok(line) if line == "ok" || line.ends_with("> ok") => break,
                Ok(line) => c.banner.push(line),
                Err(e) if e.is::<TimedOut>() && start.elapsed() < timeout => {
                    c.send("\r\necho off")?;
                    sent += 1;
                }
                Err(e) => return Err(e),
            }
        }
        if sent > 1 {
            // A repeated command may have been answered twice: drop what follows until
            // the line is quiet, so that no stale `ok` answers the next command.
            c.port.set_wait(HANDSHAKE_RETRY / 4)?;
            while c.read_line().is_ok() {}
            c.pending.clear();
        }
        c.port.set_wait(timeout)?;
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

    /// `classify` for each of `names`, in as few command lines as fit the device's line
    /// ([`classify_lines`]); returns the answer lines (`NAME LABEL 0.dddd`), one per name.
    pub fn classify(&mut self, names: &[String]) -> Result<Vec<String>> {
        self.one_line_each(classify_lines(names)?, names.len(), "names")
    }

    /// `pronounce` for each of `words`, in as few command lines as fit the device's line
    /// ([`pronounce_lines`]); returns the answer lines (`word PH PH …`, the lines of the
    /// host's `micrornn pronounce`), one per word.
    pub fn pronounce(&mut self, words: &[String]) -> Result<Vec<String>> {
        self.one_line_each(pronounce_lines(words)?, words.len(), "words")
    }

    /// Sends each command line and collects the answers: one line per item, `expected`
    /// in all (`what` names the items in the error if the count differs).
    fn one_line_each(
        &mut self,
        lines: Vec<String>,
        expected: usize,
        what: &str,
    ) -> Result<Vec<String>> {
        let mut answers = Vec::with_capacity(expected);
        for line in lines {
            answers.extend(self.command(&line)?);
        }
        if answers.len() != expected {
            bail!(
                "the device answered {} lines for {expected} {what}",
                answers.len()
            );
        }
        Ok(answers)
    }

    /// Classifies one message on a word classifier with the `text` command: `text`, the
    /// message's lines (lines of only whitespace left out: an empty line ends the
    /// message, and line ends read as spaces), an empty line; returns the reply lines
    /// before `ok` (one, `<label> <prob>`).
    pub fn classify_text(&mut self, text: &str) -> Result<Vec<String>> {
        let mut bytes = b"text\n".to_vec();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(b'\n');
        }
        self.send_raw(&bytes)?;
        self.command("")
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

    /// One line from the device, without its CR LF, its control bytes escaped
    /// ([`escape_controls`]: a device's line may quote what it was sent).
    fn read_line(&mut self) -> Result<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(escape_controls(&String::from_utf8_lossy(&line)));
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

/// `classify …` command lines holding `names` in order, each at most
/// [`micrornn::session::MAX_LINE`] bytes. A name that is empty, holds whitespace (the
/// device splits names at it) or a control character (a backspace would edit the line)
/// or does not fit a line by itself is refused, naming it.
pub fn classify_lines(names: &[String]) -> Result<Vec<String>> {
    command_lines("classify", "name", names)
}

/// `pronounce …` command lines holding `words` in order, each at most
/// [`micrornn::session::MAX_LINE`] bytes; refused as [`classify_lines`] refuses a name.
pub fn pronounce_lines(words: &[String]) -> Result<Vec<String>> {
    command_lines("pronounce", "word", words)
}

/// Command lines `HEAD ITEM ITEM …` holding `items` in order, each at most
/// [`micrornn::session::MAX_LINE`] bytes (`what`: how an item is called in errors).
fn command_lines(head: &str, what: &str, items: &[String]) -> Result<Vec<String>> {
    let max = micrornn::session::MAX_LINE;
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        let shown = escape_controls(item);
        if item.is_empty() || item.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("{what} \"{shown}\" is empty or holds whitespace or a control character: the device reads one word of text per {what}");
        }
        if head.len() + 1 + item.len() > max {
            bail!(
                "{what} \"{shown}\" is {} bytes; the device's line holds {} ({} for a {what})",
                item.len(),
                max,
                max - head.len() - 1
            );
        }
        match lines.last_mut() {
            Some(l) if l.len() + 1 + item.len() <= max => {
                l.push(' ');
                l.push_str(item);
            }
            _ => lines.push(format!("{head} {item}")),
        }
    }
    Ok(lines)
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

/// `s` with every control character written `\xNN` and every backslash `\\`, as the
/// device's own replies quote input ([`micrornn::text::Text::escaped`]): text shown on a
/// terminal that cannot drive it.
pub fn escape_controls(s: &str) -> String {
    s.chars()
        .map(|c| micrornn::text::escape_char(c, &mut [0; 4]).to_string())
        .collect()
}

/// Thousandths as the shortest decimal: 800 → `0.8`, 1000 → `1`.
pub fn milli_to_decimal(m: u32) -> String {
    let s = format!("{}.{:03}", m / 1000, m % 1000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device that quotes raw control bytes back (an old firmware, a hostile one) does
    /// not reach the user's terminal with them: replies and errors come out escaped.
    #[test]
    fn control_bytes_from_the_device_are_escaped() {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let device = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = std::io::BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while !line.contains("echo off") {
                r.read_line(&mut line).unwrap();
            }
            s.write_all(b"ok\r\n").unwrap();
            r.read_line(&mut line).unwrap();
            s.write_all(b"\x1b]0;title\x07name\r\nok\r\n").unwrap();
            r.read_line(&mut line).unwrap();
            s.write_all(b"err unknown command \"\x1b[2J\\\" (try help)\r\n")
                .unwrap();
        });
        let mut c =
            DeviceClient::connect(&format!("tcp:127.0.0.1:{port}"), Duration::from_secs(10))
                .unwrap();
        assert_eq!(c.command("gen").unwrap(), [r"\x1b]0;title\x07name"]);
        let e = c.command("\x1b[2J\\").unwrap_err().to_string();
        assert_eq!(e, r#"device: unknown command "\x1b[2J\\" (try help)"#);
        device.join().unwrap();
    }

    /// A board that loses the first command (it was resetting) and answers a repeated
    /// one late and twice: the connection still comes up, and the next command gets its
    /// own answer, not a stale `ok`.
    #[test]
    fn a_lost_first_command_is_sent_again() {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let device = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut r = std::io::BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            // The first `echo off` is lost: wait for the second.
            let mut seen = 0;
            while seen < 2 {
                line.clear();
                r.read_line(&mut line).unwrap();
                seen += usize::from(line.contains("echo off"));
            }
            s.write_all(b"ok\r\nok\r\n").unwrap();
            line.clear();
            while !line.contains("info") {
                line.clear();
                r.read_line(&mut line).unwrap();
            }
            s.write_all(b"firmware x\r\nok\r\n").unwrap();
        });
        let mut c =
            DeviceClient::connect(&format!("tcp:127.0.0.1:{port}"), Duration::from_secs(10))
                .unwrap();
        assert_eq!(c.command("info").unwrap(), ["firmware x"]);
        device.join().unwrap();
    }

    #[test]
    fn classify_lines_fill_the_device_line_and_refuse_what_cannot_go() {
        let names: Vec<String> = (0..40).map(|i| format!("name{i:02}")).collect();
        let lines = classify_lines(&names).unwrap();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= micrornn::session::MAX_LINE));
        let back: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.strip_prefix("classify ").unwrap().split(' '))
            .collect();
        assert_eq!(back, names);
        let long = "a".repeat(micrornn::session::MAX_LINE - 9);
        assert_eq!(
            classify_lines(std::slice::from_ref(&long)).unwrap(),
            [format!("classify {long}")]
        );
        let e = classify_lines(&[long + "a"]).unwrap_err().to_string();
        assert!(e.contains("119 bytes"), "{e}");
        let e = classify_lines(&["an na".into()]).unwrap_err().to_string();
        assert!(e.contains("whitespace"), "{e}");
        let e = classify_lines(&["\u{1b}[2J a".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(r"\x1b[2J a"), "{e}");
        // A backspace would be an edit on the device's line, not a character.
        let e = classify_lines(&["ann\x7fa".into()])
            .unwrap_err()
            .to_string();
        assert!(e.contains(r"ann\x7fa") && e.contains("control"), "{e}");
    }

    #[test]
    fn pronounce_lines_fill_the_device_line() {
        let words: Vec<String> = (0..30).map(|i| format!("word{i:02}")).collect();
        let lines = pronounce_lines(&words).unwrap();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= micrornn::session::MAX_LINE));
        let back: Vec<&str> = lines
            .iter()
            .flat_map(|l| l.strip_prefix("pronounce ").unwrap().split(' '))
            .collect();
        assert_eq!(back, words);
        let e = pronounce_lines(&["new york".into()])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("word \"new york\"") && e.contains("whitespace"),
            "{e}"
        );
        let long = "a".repeat(micrornn::session::MAX_LINE - 9);
        let e = pronounce_lines(&[long]).unwrap_err().to_string();
        assert!(e.contains("(117 for a word)"), "{e}");
    }

    #[test]
    fn decimals() {
        assert_eq!(milli_to_decimal(800), "0.8");
        assert_eq!(milli_to_decimal(1000), "1");
        assert_eq!(milli_to_decimal(0), "0");
        assert_eq!(milli_to_decimal(1250), "1.25");
        assert_eq!(milli_to_decimal(5), "0.005");
    }
}
