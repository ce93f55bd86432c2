//! The serial protocol's commands: parsing one line into a [`Command`].
//!
//! Lines are ASCII words separated by spaces. Settings are `key=value` words after
//! `gen`, or `set key value` to keep them for later `gen`s:
//!
//! | key | value | meaning (as for `micrornn generate`) |
//! |---|---|---|
//! | `seed` | integer | seed of the sampler |
//! | `temp` | decimal 0–100, ≤ 3 decimals | temperature, 0 = greedy |
//! | `topk` | integer | keep the k most probable characters, 0 = all |
//! | `minp` | decimal 0–1, ≤ 3 decimals | drop characters below this probability |
//! | `prefix` | text without spaces (may be empty) | names start with it |
//! | `maxlen` | integer ≥ 1 | maximum characters per name |
//!
//! `classify NAME...` asks a classifier for the label of each name. `upload <len> <crc>
//! [single]` starts receiving a model ([`crate::upload`] describes the exchange), `reset`
//! restarts the board.

use crate::fixed::parse_milli;
use crate::sampler::{Settings, MAX_TEMPERATURE_MILLI};
use crate::upload::Request;

/// Longest prefix a setting can hold, in bytes.
pub const MAX_PREFIX: usize = 32;
/// Most names one `gen` may ask for.
pub const MAX_GEN: u32 = 10_000;

/// Sampling settings of the session: the sampler's, the seed and the prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenSettings {
    /// Temperature, top-k, min-p, maximum length.
    pub sampler: Settings,
    /// Seed of the PRNG; every `gen` starts from it.
    pub seed: u64,
    /// Every name starts with this.
    pub prefix: heapless::String<MAX_PREFIX>,
}

impl Default for GenSettings {
    fn default() -> Self {
        GenSettings {
            sampler: Settings::default(),
            seed: 0,
            prefix: heapless::String::new(),
        }
    }
}

/// One parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `help`: list the commands.
    Help,
    /// `info`: firmware, board, capacity and model.
    Info,
    /// `gen [N] [key=value]...`: generate N names (default 1) with these settings applied
    /// on top of the session's.
    Gen {
        /// Number of names.
        count: u32,
        /// The settings for this command only.
        settings: GenSettings,
    },
    /// `set key value`: change a setting for the following `gen`s.
    Set(GenSettings),
    /// `settings`: show the session's settings.
    Settings,
    /// `echo on|off`: echo typed characters (for terminals) or not (for programs).
    Echo(bool),
    /// `stats`: measurements of the last `gen`.
    Stats,
    /// `classify NAME...`: the label and its probability for each name (classifiers);
    /// holds the names, separated by spaces.
    Classify(&'a str),
    /// `pronounce WORD...`: the phonemes of each word (encoder–decoders, feature
    /// `seq2seq`); holds the words, separated by spaces.
    #[cfg(feature = "seq2seq")]
    Pronounce(&'a str),
    /// `text`: the following lines, up to an empty one, are one text for a word
    /// classifier (any length: they are read in pieces).
    Text,
    /// `upload <len> <crc32 as 8 hex digits> [single]`: receive a model.
    Upload(Request),
    /// `reset`: restart the board.
    Reset,
    /// A blank line: nothing to do.
    Empty,
    /// Anything else.
    Unknown(&'a str),
}

/// Why a line is not a valid command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError<'a> {
    /// A number or decimal that does not parse or is out of range.
    BadValue {
        /// The setting or argument.
        key: &'a str,
        /// What is allowed.
        expected: &'static str,
    },
    /// A `key=value` word with an unknown key.
    UnknownSetting(&'a str),
    /// Words after a command that takes none, or missing ones.
    Usage(&'static str),
}

/// Parses one line (without its line ending) given the session's current settings.
pub fn parse<'a>(line: &'a str, current: &GenSettings) -> Result<Command<'a>, ParseError<'a>> {
    let mut words = line.split_ascii_whitespace();
    let Some(cmd) = words.next() else {
        return Ok(Command::Empty);
    };
    let no_more = |mut w: core::str::SplitAsciiWhitespace<'a>, usage| match w.next() {
        Some(_) => Err(ParseError::Usage(usage)),
        None => Ok(()),
    };
    match cmd {
        "help" => no_more(words, "help").map(|_| Command::Help),
        "info" => no_more(words, "info").map(|_| Command::Info),
        "settings" => no_more(words, "settings").map(|_| Command::Settings),
        "stats" => no_more(words, "stats").map(|_| Command::Stats),
        "reset" => no_more(words, "reset").map(|_| Command::Reset),
        "upload" => Request::parse(words)
            .map(Command::Upload)
            .ok_or(ParseError::Usage(
                "upload <len> <crc32 as 8 hex digits> [single]",
            )),
        "echo" => {
            let on = match words.next() {
                Some("on") => true,
                Some("off") => false,
                _ => return Err(ParseError::Usage("echo on|off")),
            };
            no_more(words, "echo on|off").map(|_| Command::Echo(on))
        }
        "set" => {
            let (Some(key), value) = (words.next(), words.next()) else {
                return Err(ParseError::Usage(
                    "set <seed|temp|topk|minp|prefix|maxlen> <value>",
                ));
            };
            no_more(words, "set <key> <value>")?;
            let mut s = current.clone();
            apply(&mut s, key, value.unwrap_or(""))?;
            Ok(Command::Set(s))
        }
        "gen" => {
            let mut settings = current.clone();
            let mut count = 1;
            for (i, w) in words.enumerate() {
                match w.split_once('=') {
                    Some((key, value)) => apply(&mut settings, key, value)?,
                    None if i == 0 => {
                        count = w.parse::<u32>().ok().filter(|&n| n <= MAX_GEN).ok_or(
                            ParseError::BadValue {
                                key: "N",
                                expected: "a count from 0 to 10000",
                            },
                        )?;
                    }
                    None => return Err(ParseError::Usage("gen [N] [key=value]...")),
                }
            }
            Ok(Command::Gen { count, settings })
        }
        "classify" => rest_of(line, cmd, "classify <name>...").map(Command::Classify),
        // Encoder–decoders only: a build without them (the micro:bit v1) does not know it.
        #[cfg(feature = "seq2seq")]
        "pronounce" => rest_of(line, cmd, "pronounce <word>...").map(Command::Pronounce),
        // Word classifiers only: a build without them (the micro:bit v1) does not know it.
        #[cfg(feature = "words")]
        "text" => {
            no_more(
                words,
                "text (then the lines of the text, an empty line ends it)",
            )?;
            Ok(Command::Text)
        }
        other => Ok(Command::Unknown(other)),
    }
}

/// The rest of `line` after its command word `cmd`, trimmed; a usage error if empty.
fn rest_of<'a>(line: &'a str, cmd: &str, usage: &'static str) -> Result<&'a str, ParseError<'a>> {
    // (`strip_prefix`, not slicing: no char-boundary panic path in the firmware.)
    let rest = line
        .trim_ascii_start()
        .strip_prefix(cmd)
        .unwrap_or("")
        .trim_ascii();
    match rest.is_empty() {
        true => Err(ParseError::Usage(usage)),
        false => Ok(rest),
    }
}

/// Sets `key` to `value` in `s`.
fn apply<'a>(s: &mut GenSettings, key: &'a str, value: &'a str) -> Result<(), ParseError<'a>> {
    let bad = |expected| ParseError::BadValue { key, expected };
    match key {
        "seed" => {
            s.seed = value
                .parse()
                .map_err(|_| bad("an integer from 0 to 2^64-1"))?
        }
        "temp" => {
            s.sampler.temperature_milli = parse_milli(value, MAX_TEMPERATURE_MILLI)
                .ok_or(bad("a decimal from 0 to 100, at most 3 decimals"))?
        }
        "topk" => {
            s.sampler.top_k = value
                .parse()
                .map_err(|_| bad("an integer from 0 to 65535"))?
        }
        "minp" => {
            s.sampler.min_p_milli =
                parse_milli(value, 1000).ok_or(bad("a decimal from 0 to 1, at most 3 decimals"))?
        }
        "maxlen" => {
            s.sampler.max_len = value
                .parse()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(bad("an integer from 1 to 65535"))?
        }
        "prefix" => {
            s.prefix.clear();
            s.prefix
                .push_str(value)
                .map_err(|_| bad("at most 32 bytes"))?;
        }
        _ => return Err(ParseError::UnknownSetting(key)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(line: &str) -> Result<(u32, GenSettings), ParseError<'_>> {
        match parse(line, &GenSettings::default())? {
            Command::Gen { count, settings } => Ok((count, settings)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_gen_with_settings() {
        let (n, s) = gen("gen 20 seed=7 temp=0.8 topk=5 minp=0.05 prefix=ma maxlen=12").unwrap();
        assert_eq!(n, 20);
        assert_eq!(s.seed, 7);
        assert_eq!(
            s.sampler,
            Settings {
                temperature_milli: 800,
                top_k: 5,
                min_p_milli: 50,
                max_len: 12
            }
        );
        assert_eq!(s.prefix.as_str(), "ma");
        assert_eq!(gen("gen").unwrap().0, 1);
        assert_eq!(gen("  gen   3  ").unwrap().0, 3);
        assert_eq!(gen("gen prefix=").unwrap().1.prefix.as_str(), "");
    }

    #[test]
    fn refuses_malformed_lines() {
        let d = GenSettings::default();
        assert!(matches!(
            parse("gen -1", &d),
            Err(ParseError::BadValue { key: "N", .. })
        ));
        assert!(matches!(
            parse("gen 10001", &d),
            Err(ParseError::BadValue { key: "N", .. })
        ));
        assert!(matches!(parse("gen 2 3", &d), Err(ParseError::Usage(_))));
        assert!(matches!(
            parse("gen temp=hot", &d),
            Err(ParseError::BadValue { key: "temp", .. })
        ));
        assert!(matches!(
            parse("gen temp=101", &d),
            Err(ParseError::BadValue { key: "temp", .. })
        ));
        assert!(matches!(
            parse("gen minp=1.5", &d),
            Err(ParseError::BadValue { key: "minp", .. })
        ));
        assert!(matches!(
            parse("gen maxlen=0", &d),
            Err(ParseError::BadValue { key: "maxlen", .. })
        ));
        assert!(matches!(
            parse("gen seed=99999999999999999999", &d),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(
            parse("gen colour=red", &d),
            Err(ParseError::UnknownSetting("colour"))
        ));
        assert!(matches!(
            parse("gen prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &d),
            Err(ParseError::BadValue { .. })
        ));
        assert!(matches!(parse("info now", &d), Err(ParseError::Usage(_))));
        assert!(matches!(parse("reset 1", &d), Err(ParseError::Usage(_))));
        assert!(matches!(parse("upload 12", &d), Err(ParseError::Usage(_))));
        assert_eq!(parse("reset", &d), Ok(Command::Reset));
        assert_eq!(
            parse("upload 12 0000ffff single", &d),
            Ok(Command::Upload(Request {
                len: 12,
                crc: 0xffff,
                single: true
            }))
        );
        assert!(matches!(parse("echo maybe", &d), Err(ParseError::Usage(_))));
        assert!(matches!(
            parse("set seed", &d),
            Err(ParseError::BadValue { key: "seed", .. })
        ));
        assert!(matches!(parse("set", &d), Err(ParseError::Usage(_))));
        assert_eq!(
            parse("frobnicate 3", &d),
            Ok(Command::Unknown("frobnicate"))
        );
        assert_eq!(parse("   ", &d), Ok(Command::Empty));
        assert!(matches!(parse("classify", &d), Err(ParseError::Usage(_))));
        assert!(matches!(
            parse(" classify  ", &d),
            Err(ParseError::Usage(_))
        ));
    }

    #[test]
    fn classify_takes_the_rest_of_the_line() {
        let d = GenSettings::default();
        assert_eq!(parse("classify anna", &d), Ok(Command::Classify("anna")));
        assert_eq!(
            parse("  classify  anna   bob ", &d),
            Ok(Command::Classify("anna   bob"))
        );
        assert_eq!(parse("classify é", &d), Ok(Command::Classify("é")));
    }

    #[cfg(feature = "seq2seq")]
    #[test]
    fn pronounce_takes_the_rest_of_the_line() {
        let d = GenSettings::default();
        assert_eq!(
            parse(" pronounce  hello  World ", &d),
            Ok(Command::Pronounce("hello  World"))
        );
        assert_eq!(
            parse("pronounce", &d),
            Err(ParseError::Usage("pronounce <word>..."))
        );
    }

    #[test]
    fn set_changes_only_its_key() {
        let d = GenSettings::default();
        let Ok(Command::Set(s)) = parse("set temp 0.5", &d) else {
            panic!()
        };
        assert_eq!(s.sampler.temperature_milli, 500);
        assert_eq!(s.seed, d.seed);
        let Ok(Command::Set(s)) = parse("set prefix", &s) else {
            panic!()
        };
        assert_eq!(s.prefix.as_str(), "");
    }
}
