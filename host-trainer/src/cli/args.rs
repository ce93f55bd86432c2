//! The command line: every command, flag and default, with help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use micrornn::fixed::parse_milli;
use micrornn::sampler::MAX_TEMPERATURE_MILLI;
use micrornn_trainer::device::boards::BoardKind;

/// micrornn: train character-level RNNs on a laptop, quantize them to int8, and run
/// them on microcontrollers.
#[derive(Debug, Parser)]
#[command(name = "micrornn", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a character model on names (generate, or classify by a label column), or a
    /// word classifier on messages (--tokens word); writes M.mrnn (int8), M.ckpt (float)
    /// and the validation split (M.val.txt or M.val.csv).
    Train(TrainArgs),
    /// Score a model on names: cross-entropy per character (generators), or accuracy
    /// and cross-entropy per name (classifiers); on messages, accuracy, precision, recall
    /// and the confusion matrix (word classifiers). .mrnn: integer path; .ckpt: float path.
    Eval(EvalArgs),
    /// Give the label and its probability for each name (classifiers) or message (word
    /// classifiers: --text, --file).
    Classify(ClassifyArgs),
    /// Quantize a float checkpoint to an int8 model file, or write a model as a flash file
    /// for a board's partition (UF2, HEX or bin).
    Export(ExportArgs),
    /// Bring in a model trained in PyTorch (its state_dict saved with safetensors):
    /// writes M.mrnn (int8) and M.ckpt (float).
    Import(ImportArgs),
    /// Show a model's configuration, vocabulary, size, RAM need and cost per character.
    Inspect(InspectArgs),
    /// Generate names (.mrnn: integer path; .ckpt: float path).
    Generate(GenerateArgs),
    /// Pronounce words with a seq2seq model: one `word PH PH …` line per word, the
    /// device's line (.mrnn: integer path; .ckpt: float path).
    Pronounce(PronounceArgs),
    /// Measure training throughput and sampling speed on this machine.
    Bench(BenchArgs),
    /// Talk to a device (or an emulated one) over its serial line.
    Device(DeviceArgs),
    /// List the serial ports, with their USB descriptions; marks micrornn boards.
    Ports,
    /// Build a board's firmware and write the file its owner drags onto the board (.uf2,
    /// .hex or .bin), optionally with a model, plus the ELF for probe-rs.
    Firmware(FirmwareArgs),
    /// Boot the firmware in QEMU with a model in its partition.
    Emulate(EmulateArgs),
    /// Train a small model, flash it into an emulated board, print the names it sends back.
    Demo(DemoArgs),
}

/// `micrornn train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Names to train on: a CSV file with a `name` column, or text with one name per line;
    /// for --tokens word, a CSV file of messages (--text-column, --label-column)
    /// [default: data/names.csv; with --resume, the data the checkpoint's run read].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Model file to write; the checkpoint (.ckpt) and validation names (.val.txt) go beside it.
    /// Default: model.mrnn, or beside the checkpoint given to --resume.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run saved in this checkpoint (same data; --epochs may extend it).
    #[arg(long, value_name = "M.ckpt")]
    pub resume: Option<PathBuf>,
    /// What to learn: next characters (names to generate), or one label per name
    /// [default: generate].
    #[arg(long, value_enum)]
    pub task: Option<TaskArg>,
    /// What a model reads: characters (names), or words (messages: --task classify
    /// only; e.g. --data data/spamassassin-train.csv) [default: char].
    #[arg(long, value_enum)]
    pub tokens: Option<TokensArg>,
    /// The CSV column holding each name's label, for --task classify; a `count`
    /// column, if present, weighs the rows when choosing each name's majority label
    /// [default: gender; label for --tokens word].
    #[arg(long)]
    pub label_column: Option<String>,
    /// The CSV column holding each message's text, for --tokens word [default: text].
    #[arg(long)]
    pub text_column: Option<String>,
    /// Words in the vocabulary, for --tokens word: the most frequent of the training
    /// split; the others read as <UNK> [default: 4000].
    #[arg(long)]
    pub vocab_size: Option<usize>,
    /// Words read from each message, for --tokens word (the rest is ignored, in training
    /// and on the device) [default: 64].
    #[arg(long)]
    pub max_words: Option<u16>,
    /// Recurrent cell [default: rnn; gru for --task classify].
    #[arg(long, value_enum)]
    pub cell: Option<CellArg>,
    /// Stacked recurrent layers, 1 to 4 [default: 1].
    #[arg(long)]
    pub layers: Option<usize>,
    /// Hidden units per layer, 1 to 511 [default: 192 for rnn, 128 for gru and lstm;
    /// 64 for --tokens word].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Width of a learned character embedding, 0 to 512; 0 = one-hot input
    /// [default: 0 for rnn, 32 for gru and lstm and for --tokens word].
    #[arg(long)]
    pub embed: Option<usize>,
    /// Passes over the training names [default: 40; 20 for --task classify; 12 for
    /// --tokens word; 30 for --task seq2seq].
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Names per mini-batch [default: 64; 32 messages for --tokens word].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate (Adam; warm-up, then cosine decay) [default: 0.004; 0.008 for
    /// --task seq2seq].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Decoupled weight decay (AdamW) per unit of learning rate
    /// [default: 0.01 for rnn, 0.05 for gru and lstm; 1.0 for --tokens word].
    #[arg(long)]
    pub weight_decay: Option<f32>,
    /// Largest gradient norm [default: 1.0].
    #[arg(long)]
    pub clip: Option<f32>,
    /// --task seq2seq: dropout on the output layer's input in training, 0 to <1
    /// [default: 0.3].
    #[arg(long)]
    pub dropout: Option<f32>,
    /// Seed for weights, validation split and batch order [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads; the same seed and thread count give the same bytes [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fraction of distinct names held out for validation [default: 0.1].
    #[arg(long)]
    pub val_frac: Option<f64>,
    /// No progress bar (epoch lines are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Also write the training examples as token ids to F, one a line: the label id,
    /// then the input ids, space-separated (e.g. for bench/words_torch.py).
    #[arg(long, value_name = "F")]
    pub save_ids: Option<PathBuf>,
}

/// A task, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    /// Next-character prediction: a model that generates names.
    Generate,
    /// Many-to-one: a model that reads a name and gives its label.
    Classify,
    /// Encoder–decoder: spelling in, pronunciation out (a CMUdict `.dict` file).
    /// Defaults: --data data/cmudict-train.dict, --out pronounce.mrnn, GRU, 1 layer,
    /// hidden 256 (the decoder; each encoder direction 128), embedding 32, 15 epochs,
    /// batch 64, lr 0.005, weight decay 0.05.
    Seq2seq,
}

impl From<TaskArg> for micrornn::format::Task {
    fn from(t: TaskArg) -> Self {
        match t {
            TaskArg::Generate => Self::Generate,
            TaskArg::Classify => Self::Classify,
            TaskArg::Seq2seq => Self::Seq2seq,
        }
    }
}

/// What a model reads, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TokensArg {
    /// Characters: names.
    Char,
    /// Words of a message (shared's tokenizer), with <PAD> and <UNK>.
    Word,
}

/// A recurrent cell, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CellArg {
    /// Vanilla (Elman) RNN.
    Rnn,
    /// Gated recurrent unit.
    Gru,
    /// Long short-term memory.
    Lstm,
}

impl From<CellArg> for micrornn::format::CellKind {
    fn from(c: CellArg) -> Self {
        match c {
            CellArg::Rnn => Self::Rnn,
            CellArg::Gru => Self::Gru,
            CellArg::Lstm => Self::Lstm,
        }
    }
}

/// `micrornn eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model: .mrnn (integer path) or .ckpt (float path).
    #[arg(long, default_value = "model.mrnn")]
    pub model: PathBuf,
    /// Names to evaluate (CSV with a `name` column, or one per line), e.g. model.val.txt;
    /// for a classifier, CSV with `name`, the label column and optionally `count`, e.g.
    /// model.val.csv; for a word classifier, CSV with the text and label columns.
    #[arg(long)]
    pub data: PathBuf,
    /// The label column, for a classifier [default: gender; label for a word classifier].
    #[arg(long)]
    pub label_column: Option<String>,
    /// The text column, for a word classifier [default: text].
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// The label that precision and recall are of, for a word classifier
    /// [default: spam if it is a label, else the second label].
    #[arg(long)]
    pub positive: Option<String>,
    /// A second model of the same classifier (e.g. the .ckpt of an .mrnn) to score
    /// too, with the share of messages on which the two agree (word classifiers).
    #[arg(long, value_name = "M")]
    pub compare: Option<PathBuf>,
    /// Beam width for a seq2seq model; 1 = greedy decoding (what the device does).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub beam: u16,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `micrornn pronounce`.
#[derive(Debug, Args)]
pub struct PronounceArgs {
    /// Seq2seq model: .mrnn (integer path, the chip's digits) or .ckpt (float path).
    #[arg(long, default_value = "pronounce.mrnn")]
    pub model: PathBuf,
    /// Beam width; 1 = greedy decoding (what the device does).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub beam: u16,
    /// Words to pronounce (ASCII letters are lower-cased, as the model reads them).
    #[arg(value_name = "WORD", required = true)]
    pub words: Vec<String>,
}

/// `micrornn classify`.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Classifier: .mrnn (integer path, the chip's digits) or .ckpt (float path).
    #[arg(long, default_value = "model.mrnn")]
    pub model: PathBuf,
    /// Names to classify (character classifiers).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// A message to classify (word classifiers): prints `<label> <prob>`, the device's
    /// line. May be given several times.
    #[arg(long, value_name = "TEXT")]
    pub text: Vec<String>,
    /// A file of messages, one a line (word classifiers; `-` = standard input): one
    /// verdict a line, `<label> <prob>`.
    #[arg(long, value_name = "F")]
    pub file: Option<PathBuf>,
}

/// `micrornn export`.
#[derive(Debug, Args)]
#[command(after_help = "\
Board files (--board B): the model is placed as the board's model store would leave it
after an upload (the model in slot A, its commit record, the other slot's record erased),
so the board serves it at the next start.
  pico, pico2     --format uf2 (default): drag it onto RPI-RP2 / RP2350 (hold BOOTSEL
                  while plugging in); the firmware stays.
  microbit(-v2)   --format hex (default): the MICROBIT drive erases the whole flash before
                  it writes a .hex, so this file alone leaves no firmware: for drag-and-drop
                  use `micrornn firmware --board B --model M` (one .hex with both); this one
                  is for probe-rs (`probe-rs download --chip C --binary-format hex F`).
  nucleo-f411re   --format bin (default): a .bin has no address and the NODE drive writes
                  a .bin at the start of flash (over the firmware): for drag-and-drop use
                  `micrornn firmware --board nucleo-f411re --model M` (one .bin with both);
                  this one goes at the partition address with a probe
                  (`probe-rs download --chip C --binary-format bin --base-address A F`).")]
pub struct ExportArgs {
    /// Float checkpoint to quantize (.ckpt), or a model file (.mrnn) to package for a board.
    #[arg(long)]
    pub model: PathBuf,
    /// File to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Board whose model partition the output is for: checks that the model fits and
    /// writes it as a flash file for the partition (see --format).
    #[arg(long, value_enum)]
    pub board: Option<BoardKind>,
    /// Output format: `mrnn` (the model file; the default without --board), or a flash
    /// file for --board's partition: `uf2` (the Picos' default), `hex` (Intel HEX; the
    /// micro:bits' default) or `bin` (raw bytes from the partition's address; the
    /// Nucleo's default); or `safetensors` (a .ckpt's float weights as a PyTorch
    /// state_dict, see docs/pytorch.md).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The model file.
    Mrnn,
    /// UF2 blocks for the partition (pico, pico2).
    Uf2,
    /// Intel HEX at the partition's address.
    Hex,
    /// Raw bytes to write at the partition's address.
    Bin,
    /// A PyTorch state_dict (float weights of a .ckpt), for `load_state_dict`.
    Safetensors,
}

/// `micrornn import`.
#[derive(Debug, Args)]
#[command(after_help = "\
The file holds an nn.Embedding (or none: one-hot input) → nn.RNN/nn.GRU/nn.LSTM → nn.Linear
state_dict. The vocabulary comes from its metadata (micrornn.chars, micrornn.start,
micrornn.end, micrornn.labels) or from --chars/--start/--end/--labels; see docs/pytorch.md.
Example: micrornn import --from names.safetensors --out names.mrnn \\
           --chars abcdefghijklmnopqrstuvwxyz --start 0 --end 0")]
pub struct ImportArgs {
    /// The safetensors file (`safetensors.torch.save_file(model.state_dict(), F)`).
    #[arg(long = "from", value_name = "F.safetensors")]
    pub from: PathBuf,
    /// Model file to write (int8); the float checkpoint (.ckpt) goes beside it.
    #[arg(long, value_name = "M.mrnn")]
    pub out: PathBuf,
    /// The characters in the model's token order, the start and end ids left out
    /// (overrides the file's micrornn.chars).
    #[arg(long)]
    pub chars: Option<String>,
    /// Id of the start token fed before the first character.
    #[arg(long, value_name = "N")]
    pub start: Option<usize>,
    /// Id of the end token predicted after the last character [default: the start id].
    #[arg(long, value_name = "N")]
    pub end: Option<usize>,
    /// A classifier's label names, in output order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub labels: Option<Vec<String>>,
    /// The cell; checked against the one the shapes give.
    #[arg(long, value_enum)]
    pub cell: Option<CellArg>,
    /// The recurrent module's name (e.g. `rnn` for `rnn.weight_ih_l0`), when there are several.
    #[arg(long, value_name = "PREFIX")]
    pub rnn: Option<String>,
    /// The output nn.Linear's name (e.g. `fc`), when ambiguous or bias-free.
    #[arg(long, value_name = "PREFIX")]
    pub linear: Option<String>,
    /// The embedding tensor's full name (e.g. `emb.weight`), when ambiguous.
    #[arg(long, value_name = "NAME")]
    pub embedding: Option<String>,
}

/// `micrornn firmware`.
#[derive(Debug, Args)]
pub struct FirmwareArgs {
    /// Board to build for.
    #[arg(long, value_enum)]
    pub board: BoardKind,
    /// Folder for the files (created if missing).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Model (.mrnn) to put in the same file as the firmware, in the board's partition.
    #[arg(long, value_name = "M.mrnn")]
    pub model: Option<PathBuf>,
}

/// `micrornn device`.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Serial device (e.g. /dev/ttyACM0, COM3) or `tcp:HOST:PORT` (an emulated board).
    /// Without it: the one micrornn board attached (see `micrornn ports`).
    #[arg(long)]
    pub port: Option<String>,
    /// Seconds to wait for each reply line.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// What to ask.
    #[command(subcommand)]
    pub action: DeviceAction,
}

/// A request to the device.
#[derive(Debug, Subcommand)]
pub enum DeviceAction {
    /// Firmware, board, capacity and model.
    Info,
    /// Generate names on the device (same settings as `micrornn generate`).
    Gen(DeviceGenArgs),
    /// Measurements of the device's last `gen` or `classify` (ticks, instructions, stack).
    Stats,
    /// Classify on the device: names (a character classifier: `classify NAME…`, sent in as
    /// few lines as the device's line length allows; the lines `micrornn classify` prints), or
    /// messages (a word classifier: the `text` command, one `<label> <prob>` line per
    /// message, the digits of the host's `micrornn classify`).
    Classify(DeviceClassifyArgs),
    /// Pronounce words on the device (an encoder-decoder, task seq2seq): one line
    /// `word PH PH …` per word, the lines `micrornn pronounce` prints (greedy decoding).
    Pronounce(DevicePronounceArgs),
    /// Put a model into the device's flash: checked against the device first, sent in
    /// verified chunks; the old model serves until the new one is whole.
    Upload(DeviceUploadArgs),
}

/// `micrornn device … classify`.
#[derive(Debug, Args)]
pub struct DeviceClassifyArgs {
    /// Names to classify (character classifiers).
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// A message to classify (word classifiers); may be given several times.
    #[arg(long, value_name = "TEXT")]
    pub text: Vec<String>,
    /// A file of messages, one a line (word classifiers; `-` = standard input).
    #[arg(long, value_name = "F")]
    pub file: Option<PathBuf>,
}

/// `micrornn device … pronounce`.
#[derive(Debug, Args)]
pub struct DevicePronounceArgs {
    /// Words to pronounce (spellings; sent in as few `pronounce` lines as fit the device's line).
    #[arg(value_name = "WORD", required = true)]
    pub words: Vec<String>,
}

/// `micrornn device … upload`.
#[derive(Debug, Args)]
pub struct DeviceUploadArgs {
    /// Model file to send (.mrnn).
    #[arg(value_name = "M.mrnn")]
    pub model: PathBuf,
    /// Send the model even when the device already serves one with the same CRC.
    #[arg(long)]
    pub force: bool,
    /// Let a model larger than one slot take the whole partition. The old model is
    /// erased first: if the upload is interrupted the device has no model until the
    /// next upload.
    #[arg(long)]
    pub single_slot: bool,
}

/// `micrornn device … gen`.
#[derive(Debug, Args)]
pub struct DeviceGenArgs {
    /// Number of names.
    #[arg(default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub count: u32,
    /// Sampling settings.
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

/// `micrornn demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Board to emulate.
    #[arg(long, value_enum, default_value = "mps2-an386")]
    pub board: BoardKind,
    /// Names to train on.
    #[arg(long, default_value = "data/names.csv")]
    pub data: PathBuf,
    /// Folder for the model files.
    #[arg(long, default_value = "demo")]
    pub dir: PathBuf,
    /// Names to ask the chip for.
    #[arg(short = 'n', long = "count", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub count: u32,
    /// Seed of the chip's sampler.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// `micrornn emulate`.
#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Board to emulate.
    #[arg(long, value_enum, default_value = "mps2-an386")]
    pub board: BoardKind,
    /// Model file to put in the board's model partition (omit to boot with an empty one).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Where the UART goes: `stdio` (this terminal) or `tcp:127.0.0.1:PORT` (QEMU listens;
    /// connect with `micrornn device --port tcp:127.0.0.1:PORT`).
    #[arg(long, default_value = "stdio")]
    pub serial: String,
    /// Firmware ELF to boot (default: build or reuse firmware/ for the board).
    #[arg(long)]
    pub elf: Option<PathBuf>,
    /// Count instructions (QEMU -icount shift=0): `stats` then reports instructions.
    #[arg(long)]
    pub icount: bool,
}

/// `micrornn inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Model file (.mrnn or .ckpt).
    pub model: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `micrornn generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Model: .mrnn (integer path, what the chip runs) or .ckpt (float path).
    #[arg(long, default_value = "model.mrnn")]
    pub model: PathBuf,
    /// Number of names.
    #[arg(short = 'n', long = "count", default_value_t = 10)]
    pub count: u32,
    /// A seq2seq model (.mrnn or .ckpt) that pronounces each name: the line becomes
    /// `name PH PH …` (greedy decoding, the device's).
    #[arg(long, value_name = "P.mrnn")]
    pub pronounce: Option<PathBuf>,
    /// Sampling settings.
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

/// Sampling settings, for `generate` and `device gen`.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Seed of the sampler; the same seed gives the same names.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Temperature, 0..=100 with up to 3 decimals; 0 = greedy.
    #[arg(long, default_value = "1", value_parser = parse_temperature)]
    pub temperature: u32,
    /// Keep only the K most probable characters; 0 = all.
    #[arg(long, default_value_t = 0)]
    pub top_k: u16,
    /// Drop characters whose probability is below P (0..=1, up to 3 decimals); 0 = off.
    #[arg(long, default_value = "0", value_parser = parse_probability)]
    pub min_p: u32,
    /// Every name starts with this.
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Maximum characters per name, prefix included.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_len: u16,
}

/// `micrornn bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Seconds per measurement. Training is timed in quarter-second windows and
    /// reported as the median window, with the slowest and the fastest.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Threads for training [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Recurrent cell of the benchmarked model.
    #[arg(long, value_enum, default_value = "rnn")]
    pub cell: CellArg,
    /// Stacked recurrent layers of the benchmarked model.
    #[arg(long, default_value_t = 1)]
    pub layers: usize,
    /// Hidden units per layer of the benchmarked model.
    #[arg(long, default_value_t = 128)]
    pub hidden: usize,
    /// Embedding width of the benchmarked model; 0 = one-hot input.
    #[arg(long, default_value_t = 0)]
    pub embed: usize,
    /// Names per training batch.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Model for the sampling benchmark (default: an untrained a–z model of --hidden units).
    #[arg(long)]
    pub model: Option<PathBuf>,
}

fn parse_temperature(s: &str) -> Result<u32, String> {
    parse_milli(s, MAX_TEMPERATURE_MILLI)
        .ok_or_else(|| "expected a number from 0 to 100 with at most 3 decimals".into())
}

fn parse_probability(s: &str) -> Result<u32, String> {
    parse_milli(s, 1000)
        .ok_or_else(|| "expected a number from 0 to 1 with at most 3 decimals".into())
}

impl SamplingArgs {
    /// The sampler's settings.
    pub fn settings(&self) -> micrornn::sampler::Settings {
        micrornn::sampler::Settings {
            temperature_milli: self.temperature,
            top_k: self.top_k,
            min_p_milli: self.min_p,
            max_len: self.max_len,
        }
    }

    /// The protocol line asking a device for `count` names with these settings.
    pub fn gen_line(&self, count: u32) -> anyhow::Result<String> {
        use micrornn_trainer::device::client::milli_to_decimal;
        if self.prefix.chars().any(char::is_whitespace)
            || self.prefix.len() > micrornn::protocol::MAX_PREFIX
        {
            anyhow::bail!(
                "--prefix for a device must be at most {} bytes without spaces",
                micrornn::protocol::MAX_PREFIX
            );
        }
        Ok(format!(
            "gen {count} seed={} temp={} topk={} minp={} prefix={} maxlen={}",
            self.seed,
            milli_to_decimal(self.temperature),
            self.top_k,
            milli_to_decimal(self.min_p),
            self.prefix,
            self.max_len
        ))
    }
}
