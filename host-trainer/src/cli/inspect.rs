//! `micrornn inspect`.

use anyhow::Result;
use micrornn::Model;
use micrornn_trainer::eval::host_model::{export_checkpoint, HostModel};
use serde_json::json;

use crate::cli::args::InspectArgs;

pub fn run(a: InspectArgs) -> Result<()> {
    let host = HostModel::open(&a.model)?;
    let file_bytes = std::fs::metadata(&a.model)?.len();
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
    let info = json!({
        "file": a.model.display().to_string(),
        "kind": host.path_kind(),
        "file_bytes": file_bytes,
        "model_file_bytes": bytes.len(),
        "format_version": micrornn::format::FORMAT_VERSION,
        "cell": format!("{:?}", c.cell).to_lowercase(),
        "task": format!("{:?}", c.task).to_lowercase(),
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
    println!(
        "vocabulary      {} tokens: start, end, {:?}",
        c.vocab_size,
        m.vocab.chars()
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
