//! `micrornn inspect` of a seq2seq model: its encoder, decoder, attention, both
//! vocabularies, size, RAM and cost per phoneme.

use anyhow::Result;
use micrornn::seq2seq::{Phonemes, Seq2seqQ, MAX_INPUT, MAX_OUTPUT};
use micrornn::Model;
use serde_json::json;

use crate::cli::args::InspectArgs;

/// Describes the validated seq2seq model `m` (the file's own bytes, or the model file a
/// checkpoint exports to: `kind` says which path it was opened for).
pub fn run(
    a: &InspectArgs,
    kind: &str,
    file_bytes: u64,
    m: &Model<'_>,
    model_bytes: usize,
) -> Result<()> {
    let c = *m.config();
    let phonemes = Phonemes::new(m.labels_str())?;
    let names: Vec<&str> = phonemes.names().collect();
    let (h, he) = (c.hidden as usize, c.hidden as usize / 2);
    let cell = format!("{:?}", c.cell).to_lowercase();
    let arena = Seq2seqQ::needs(m)?;
    // Per decoder step: the layers and both halves of the output layer, and the
    // attention over a word of T characters (2·T·H); per character, both encoders.
    let g = c.cell.gates();
    let (l, e) = (c.layers as usize, c.embed as usize);
    let stack_macs = |units: usize| g * units * (e + units) + (l - 1) * g * units * 2 * units;
    let per_char = 2 * stack_macs(he);
    let per_phoneme = m.macs_per_char();
    let info = json!({
        "file": a.model.display().to_string(),
        "kind": kind,
        "file_bytes": file_bytes,
        "model_file_bytes": model_bytes,
        "format_version": micrornn::format::FORMAT_VERSION,
        "task": c.task.name(),
        "cell": cell,
        "layers": c.layers,
        "hidden": c.hidden,
        "encoder_hidden": he,
        "embed": c.embed,
        "vocab_size": c.vocab_size,
        "vocab": m.vocab.chars(),
        "phonemes": names,
        "outputs": m.outputs(),
        "max_input": MAX_INPUT,
        "max_output": MAX_OUTPUT,
        "params": m.param_count(),
        "device_ram_bytes": m.ram_bytes(),
        "arena_words": arena,
        "macs_per_input_char": per_char,
        "macs_per_phoneme": per_phoneme,
    });
    if a.json {
        println!("{info}");
        return Ok(());
    }
    println!(
        "file            {} ({file_bytes} bytes, {kind})",
        a.model.display()
    );
    if file_bytes != model_bytes as u64 {
        println!("as .mrnn        {model_bytes} bytes");
    }
    println!("task            seq2seq (spelling → phonemes), {cell}, {l} layer(s)");
    println!(
        "encoder         bidirectional: 2 stacks of {he} units, embedding {e} each; \
         reads at most {MAX_INPUT} characters"
    );
    println!("decoder         {h} units, embedding {e}, starts from both encoders' final states");
    println!("attention       Luong dot product over the {h}-wide encoder states");
    println!(
        "output          ({}, 2·{h}) over [h ; context]",
        m.outputs()
    );
    println!(
        "spelling        {} tokens: start, end, {:?}",
        c.vocab_size,
        m.vocab.chars()
    );
    println!(
        "phonemes        {} + boundary: {}",
        phonemes.count(),
        names.join(" ")
    );
    println!("parameters      {}", m.param_count());
    println!(
        "device RAM      {} bytes (states, encoder memory, scratch; weights stay in flash)",
        m.ram_bytes()
    );
    println!("MACs            {per_char} per character read, {per_phoneme} per phoneme said (+ attention 2·T·{h})");
    println!(
        "decoding        greedy on the device, at most {MAX_OUTPUT} phonemes; --beam K on the host"
    );
    Ok(())
}
