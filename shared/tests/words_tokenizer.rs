//! The word tokenizer: its rules on tricky strings (golden tokens and ids), and the same
//! tokens however the input is cut, on every possible cut of the tricky strings and on
//! the whole SpamAssassin corpus in random pieces and line by line.

use micrornn::words::{tokenize, Tokenizer, WordVocab, MAX_WORD_LEN, PAD, UNK};
use micrornn::Rng;

fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    tokenize(text.as_bytes(), |t| out.push(t.to_string()));
    out
}

/// Tricky strings and their tokens (space-separated here for brevity).
const GOLDEN: &[(&str, &str)] = &[
    ("", ""),
    ("   \t\r\n ", ""),
    ("Hello, World!", "hello world !"),
    ("FREE!!! Money!!", "free ! money !"),
    ("!!! !! !", "! ! !"),
    ("$$$ $5 $1,000.50", "$ $ <NUM> $ <NUM> <NUM> <NUM>"),
    ("!$!$", "! $ ! $"),
    ("don't stop", "don t stop"),
    ("mp3 4u 2002 0800", "mp3 4u <NUM> <NUM>"),
    ("Café ÉTÉ naïve", "café ÉtÉ naïve"),
    ("x\u{a0}y", "x\u{a0}y"),
    ("http://example.com/a?b=c&d=e more", "<URL> more"),
    ("HTTPS://Example.COM", "<URL>"),
    ("<http://x.org/a>, (www.foo.com/bar)", "<URL> <URL>"),
    ("ftp://files.example.org/x.tgz", "<URL>"),
    ("see:http://x.org", "see http x org"),
    ("http: //x", "http x"),
    ("http:/x https:x", "http x https x"),
    ("wwwx.com www", "wwwx com www"),
    ("mailto:a@b.c", "mailto <EMAIL>"),
    ("John.Doe@Example.com.", "<EMAIL>"),
    ("<cwg-dated-1030377287.06fa6d@DeepEddy.Com>", "<EMAIL>"),
    ("a@b", "a b"),
    ("@home.com", "home com"),
    ("a@@b.com a@b@c.com", "a b com a b c com"),
    ("a@.com x@y.z_", "a com <EMAIL>"),
    ("user+tag@mail.co.uk!", "<EMAIL> !"),
    (
        "abcdefghijklmnopqrstuvwx abcdefghijklmnopqrstuvwxy",
        "abcdefghijklmnopqrstuvwx <LONG>",
    ),
    ("1234567890123456789012345", "<LONG>"),
    ("a-b_c+d.e", "a b c d e"),
    ("C++ and C#", "c and c"),
    ("\u{ff}\u{fe}", "\u{ff}\u{fe}"),
];

#[test]
fn golden_tokens() {
    for &(text, want) in GOLDEN {
        let want: Vec<&str> = want.split(' ').filter(|w| !w.is_empty()).collect();
        assert_eq!(tokens(text), want, "{text:?}");
    }
}

#[test]
fn long_runs_of_address_bytes_give_their_words() {
    // 70 bytes of address bytes: more than the buffer, so never an address.
    let run = "aaaa.bbbb.cccc.dddd.eeee.ffff.gggg.hhhh.iiii.jjjj.kkkk.llll.mmmm.nn@x.com";
    let want: Vec<&str> = run.split(['.', '@']).collect();
    assert_eq!(tokens(run), want);
    // A word of 100 letters inside a long run is one <LONG>; a word of MAX_WORD_LEN is not.
    let long = format!(
        "{}.{}.{}",
        "a".repeat(50),
        "b".repeat(100),
        "c".repeat(MAX_WORD_LEN)
    );
    assert_eq!(
        tokens(&long),
        ["<LONG>", "<LONG>", &"c".repeat(MAX_WORD_LEN)]
    );
    let digits = format!("{}-12", "9".repeat(70));
    assert_eq!(tokens(&digits), ["<LONG>", "<NUM>"]);
}

#[test]
fn golden_ids() {
    let vocab = WordVocab::new("!\n$\n<EMAIL>\n<NUM>\n<URL>\ncafé\nfree\nmoney\nyou").unwrap();
    let mut ids = Vec::new();
    let text = "FREE money for YOU!!! Mail bob@x.org or see www.x.org, only $99 café";
    tokenize(text.as_bytes(), |t| ids.push(vocab.id(t)));
    // free money for you ! mail <EMAIL> or see <URL> only $ <NUM> café
    assert_eq!(ids, [8, 9, UNK, 10, 2, UNK, 4, UNK, UNK, 6, UNK, 3, 5, 7]);
    assert!(ids.iter().all(|&i| i != PAD));
}

/// The tokens of `bytes` fed in the pieces that `cuts` (sorted offsets) make.
fn tokens_cut(bytes: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    let mut t = Tokenizer::new();
    let mut at = 0;
    for &c in cuts.iter().chain([&bytes.len()]) {
        t.feed(&bytes[at..c], |w| out.push(w.to_string()));
        at = c;
    }
    t.finish(|w| out.push(w.to_string()));
    out
}

#[test]
fn every_cut_of_the_golden_strings_gives_the_same_tokens() {
    for &(text, _) in GOLDEN {
        let (bytes, whole) = (text.as_bytes(), tokens(text));
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                assert_eq!(tokens_cut(bytes, &[a, b]), whole, "{text:?} cut {a} {b}");
            }
        }
    }
}

#[test]
fn the_whole_corpus_gives_the_same_tokens_in_pieces() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/spamassassin-train.csv"
    );
    let bytes = std::fs::read(path).unwrap();
    let whole = {
        let mut out = Vec::new();
        tokenize(&bytes, |t| out.push(t.to_string()));
        out
    };
    assert!(whole.len() > 500_000, "{}", whole.len());
    for special in ["<URL>", "<EMAIL>", "<NUM>", "<LONG>", "!", "$"] {
        assert!(whole.iter().any(|t| t == special), "{special}");
    }
    // Random pieces of 1 to 200 bytes.
    let mut rng = Rng::new(15);
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        at = (at + 1 + rng.below(200) as usize).min(bytes.len());
        cuts.push(at);
    }
    assert_eq!(tokens_cut(&bytes, &cuts), whole);
    // Line by line (as a device reads `text`): the line ends are whitespace too.
    let lines: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b'\n').collect();
    assert_eq!(tokens_cut(&bytes, &lines), whole);
}
