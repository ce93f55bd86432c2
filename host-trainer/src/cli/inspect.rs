//! `micrornn inspect`.

use anyhow::Result;
use micrornn::model::input_layout_bytes;
use micrornn::{InputLayout, Model};
use micrornn_trainer::eval::host_model::{export_checkpoint, HostModel};
use micrornn_trainer::eval::seq2seq::{is_seq2seq_file, Seq2seqModel};
use serde_json::json;

use crate::cli::args::InspectArgs;

pub fn run(a: InspectArgs) -> Result<()> {
    let file_bytes = std::fs::metadata(&a.model)?.len();
    if is_seq2seq_file(&a.model) {
        let s2s = Seq2seqModel::open(&a.model)?;
        let bytes = s2s.model_bytes()?;
        let m = Model::load(&bytes)?;
        return super::inspect_seq2seq::run(&a, s2s.path_kind(), file_bytes, &m, bytes.len());
    }
    let host = HostModel::open(&a.model)?;
    // A checkpoint is described through the model file it would export to.
    let quantized;
    let bytes = match &host {
        HostModel::Quantized { bytes, .. } => bytes,
        HostModel::Float { ckpt, .. } => {
            quantized = export_checkpoint(ckpt)?;
            &quantized
        }
    };
    let m = Model::load(bytes)?;
    let c = *m.config();
    let labels: Vec<&str> = m.labels().collect();
    let gh = c.cell.gates() * c.hidden as usize;
    let (folded, apart) = input_layout_bytes(m.vocab_size(), c.embed as usize, gh);
    let layout = match m.input_layout() {
        InputLayout::Folded => "folded",
        InputLayout::Apart { .. } => "apart",
    };
    let words = m
        .word_vocab()
        .map(|w| w.tokens() - micrornn::words::SPECIALS);
    let info = json!({
        "file": a.model.display().to_string(),
        "kind": host.path_kind(),
        "file_bytes": file_bytes,
        "model_file_bytes": bytes.len(),
        "format_version": micrornn::format::FORMAT_VERSION,
        "cell": format!("{:?}", c.cell).to_lowercase(),
        "task": c.task.name(),
        "max_words": m.max_words(),
        "words": words,
        "input_layout": layout,
        "input_bytes_folded": folded,
        "input_bytes_apart": (c.embed > 0).then_some(apart),
        "layers": c.layers,
        "hidden": c.hidden,
        "embed": c.embed,
        "vocab_size": c.vocab_size,
        "vocab": m.vocab.chars(),
        "outputs": m.outputs(),
        "labels": labels,
        "params": m.param_count(),
        "device_ram_bytes": m.ram_bytes(),
        "macs_per_char": m.macs_per_char(),
    });
    if a.json {
        println!("{info}");
        return Ok(());
    }
    println!(
        "file            {} ({file_bytes} bytes, {})",
        a.model.display(),
        host.path_kind()
    );
    if matches!(host, HostModel::Float { .. }) {
        println!("as .mrnn        {} bytes", bytes.len());
    }
    println!(
        "cell            {}, {} layer(s), task {}",
        info["cell"].as_str().unwrap_or("?"),
        c.layers,
        info["task"].as_str().unwrap_or("?")
    );
    println!("hidden          {}", c.hidden);
    println!(
        "input           {}",
        if c.embed == 0 {
            "one-hot".to_string()
        } else {
            format!("embedding {}", c.embed)
        }
    );
    match (m.word_vocab(), m.max_words()) {
        (Some(w), Some(max_words)) => {
            let first: Vec<&str> = w.words().take(8).collect();
            println!(
                "vocabulary      {} tokens: PAD, UNK, {} words ({} …)",
                c.vocab_size,
                w.tokens() - micrornn::words::SPECIALS,
                first.join(" ")
            );
            println!("max words       {max_words} (of each message; the rest is ignored)");
        }
        _ => println!(
            "vocabulary      {} tokens: start, end, {:?}",
            c.vocab_size,
            m.vocab.chars()
        ),
    }
    let why = if c.embed == 0 {
        "one-hot input: the input weights are the table".to_string()
    } else if layout == "apart" {
        format!("apart ({apart} B) is smaller than a folded table ({folded} B)")
    } else {
        format!("a folded table ({folded} B) is not larger than apart ({apart} B)")
    };
    println!(
        "input layout    {layout}: layer 0 reads {}; {why}",
        if layout == "apart" {
            "an int8 embedding (V, E) and its weights (G·H, E)"
        } else {
            "one (V, G·H) table row per token"
        }
    );
    if !labels.is_empty() {
        println!("labels          {} ({})", labels.join(", "), labels.len());
    }
    println!("parameters      {}", m.param_count());
    println!(
        "device RAM      {} bytes (states, scratch, outputs; weights stay in flash)",
        m.ram_bytes()
    );
    println!("MACs per char   {}", m.macs_per_char());
    Ok(())
}
