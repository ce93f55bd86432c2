#!/usr/bin/env python3
"""Training throughput of the word classifier beside PyTorch, in one session.

Runs `micrornn train --task classify --tokens word ... --save-ids IDS` (which also
writes the training messages as the word ids it trains on), then trains a PyTorch
nn.Embedding -> nn.GRU -> nn.Linear of the same shape (vocabulary, embedding, hidden,
labels) on the same ids, with the same batch size, the same number of epochs, Adam and
gradient clipping, padding masked with pack_padded_sequence (as micrornn never computes
padding). Both report real (non-padding) tokens per second of training.

Usage (from the repository root; needs torch, e.g. /work/venv/bin/python):

    cargo build --release
    python bench/words_torch.py --micrornn target/release/micrornn --threads 2

Not run in CI (no PyTorch there); the figures go into docs/measurements.md by hand.
"""

import argparse
import os

# OpenMP threads that spin while they wait cost PyTorch 50x on a machine whose cores are
# shared (measured here: 405 tokens/s spinning, 24,800 passive, 2 threads); micrornn's
# workers sleep when idle, so the comparison uses passive waiting for both.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import re
import subprocess
import sys
import tempfile
import time


def run_micrornn(args, ids_path, out):
    cmd = [
        args.micrornn, "train", "--task", "classify", "--tokens", "word",
        "--data", args.data, "--out", out, "--threads", str(args.threads),
        "--epochs", str(args.epochs), "--save-ids", ids_path, "--quiet",
    ] + args.extra
    print("$", " ".join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit("micrornn train failed")
    shape = re.search(
        r"training (\w+): (\d+) layer\(s\), hidden (\d+), embedding (\d+), vocab (\d+) tokens",
        p.stdout)
    batch = re.search(r"batch (\d+), lr ([0-9.e-]+)", p.stdout)
    rate = re.search(r"; (\d+) words/s; ([0-9.]+) s", p.stdout)
    epochs = [float(x.replace(",", "")) for x in re.findall(r"  ([0-9,]+) words/s", p.stdout)]
    if not (shape and batch and rate):
        sys.exit("cannot read micrornn's output")
    cell, layers, hidden, embed, vocab = shape.groups()
    return {
        "cell": cell, "layers": int(layers), "hidden": int(hidden), "embed": int(embed),
        "vocab": int(vocab), "batch": int(batch.group(1)), "lr": float(batch.group(2)),
        "tokens_per_s": float(rate.group(1)), "seconds": float(rate.group(2)),
        "epoch_rates": epochs,
    }


def read_ids(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = [int(x) for x in line.split()]
            if len(parts) >= 2:
                rows.append((parts[1:], parts[0]))
    return rows


def run_torch(shape, rows, epochs, threads, seed):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    if shape["cell"] != "gru":
        sys.exit("this comparison is written for the GRU (micrornn's default word model)")
    labels = max(l for _, l in rows) + 1

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(shape["vocab"], shape["embed"], padding_idx=0)
            self.rnn = nn.GRU(shape["embed"], shape["hidden"], num_layers=shape["layers"],
                              batch_first=True)
            self.out = nn.Linear(shape["hidden"], labels)

        def forward(self, x, lens):
            packed = pack_padded_sequence(self.emb(x), lens, batch_first=True,
                                          enforce_sorted=False)
            _, h = self.rnn(packed)
            return self.out(h[-1])

    model = Model()
    opt = torch.optim.AdamW(model.parameters(), lr=shape["lr"], weight_decay=0.0)
    loss_fn = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(seed)
    b = shape["batch"]
    rates = []
    for epoch in range(epochs):
        order = torch.randperm(len(rows), generator=g).tolist()
        batches = []
        for i in range(0, len(order), b):
            chunk = [rows[j] for j in order[i:i + b]]
            lens = torch.tensor([len(ids) for ids, _ in chunk])
            x = torch.zeros(len(chunk), int(lens.max()), dtype=torch.long)
            for r, (ids, _) in enumerate(chunk):
                x[r, :len(ids)] = torch.tensor(ids)
            y = torch.tensor([l for _, l in chunk])
            batches.append((x, lens, y))
        tokens = sum(int(lens.sum()) for _, lens, _ in batches)
        start = time.perf_counter()
        total = 0.0
        for x, lens, y in batches:
            opt.zero_grad()
            loss = loss_fn(model(x, lens), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(y)
        secs = time.perf_counter() - start
        rates.append(tokens / secs)
        print(f"torch epoch {epoch + 1}/{epochs}  train {total / len(rows):.4f}  "
              f"{tokens / secs:,.0f} tokens/s  {secs:.1f} s", flush=True)
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--micrornn", default="target/release/micrornn")
    ap.add_argument("--data", default="data/spamassassin-train.csv")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("extra", nargs="*", help="more flags for micrornn train (after --)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ids = os.path.join(tmp, "ids.txt")
        m = run_micrornn(args, ids, os.path.join(tmp, "words.mrnn"))
        rows = read_ids(ids)
    tokens = sum(len(ids) for ids, _ in rows)
    print(f"{len(rows)} training messages, {tokens} tokens; shape {m['cell']} "
          f"V={m['vocab']} E={m['embed']} H={m['hidden']} layers={m['layers']} batch={m['batch']}")
    t = run_torch(m, rows, args.epochs, args.threads, args.seed)
    mr = m["epoch_rates"]
    med = lambda xs: sorted(xs)[len(xs) // 2]
    print()
    print(f"micrornn: {med(mr):,.0f} tokens/s (median epoch; epochs {', '.join(f'{x:,.0f}' for x in mr)})")
    print(f"pytorch:  {med(t):,.0f} tokens/s (median epoch; epochs {', '.join(f'{x:,.0f}' for x in t)})")
    print(f"ratio:    {med(mr) / med(t):.2f}x  ({args.threads} threads each)")


if __name__ == "__main__":
    main()
