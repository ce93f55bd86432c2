#!/usr/bin/env python3
"""PyTorch twin of micrornn's seq2seq (grapheme-to-phoneme) model: throughput and accuracy.

Trains, on a CMUdict-style file (`word PH PH ...`, alternatives `word(2)`), exactly the model of
micrornn's `train --task seq2seq` (issue 14):

- encoder: two stacks (forward over x_1..x_T, backward over x_T..x_1) of L layers of H/2 units,
  each with its own embedding table of width E, over the lower-cased spelling's characters;
  e_j = [f_j ; b_j] (width H);
- decoder: L layers of H units, embedding E over the P = N + 1 tokens (N phonemes with stress
  digits, sorted; id N = BOUNDARY, fed first and emitted to end); layer l starts from
  [forward layer l final ; backward layer l final] (LSTM: c likewise);
- Luong dot attention without scaling: a = softmax_j(h_t . e_j), c_t = sum_j a_j e_j;
- logits = W_out [h_t ; c_t] + b_out; cross-entropy of every target phoneme and of the final
  BOUNDARY (teacher forcing), mean per predicted token;
- optimiser as micrornn's: AdamW (decoupled weight decay per unit of lr), linear warm-up over 2%
  of the steps then cosine decay to 2% of the peak lr, global gradient-norm clipping.

It prints, every --eval-every epochs, the training loss, predicted phonemes per second (target
tokens including the final BOUNDARY, as micrornn counts them; wall clock, and per CPU-second of
the process, which stays comparable on a loaded machine) and, unless --no-eval, validation PER/WER
with greedy decoding (argmax, at most 32 phonemes). A word is right when the output equals any of
its listed pronunciations; its phoneme errors (edit distance) count against the closest one;
PER = edits / reference phonemes (stress digits included).

The validation split is by word (a word's alternatives stay together): --val-frac of the distinct
words, drawn with --seed. It is the same kind of split as micrornn's, not the same words.

Examples (from the repository root; needs torch, e.g. /work/venv/bin/python):

    # throughput only: 60 s of training of the default shape (GRU, L=1, H=256, E=32)
    python bench/seq2seq_torch.py --max-seconds 60 --no-eval
    # accuracy: 2 epochs, validation (1000 words) every half epoch, all words at the end
    python bench/seq2seq_torch.py --epochs 2 --eval-every 0.5 --val-limit 1000
    # micrornn beside PyTorch, same shape and settings, in one run
    cargo build --release
    python bench/seq2seq_torch.py --micrornn target/release/micrornn --epochs 1 --threads 2

Not run in CI (no PyTorch there); figures go into docs by hand.
"""

import argparse
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

# Idle OpenMP threads that spin cost PyTorch a lot on a machine whose cores are shared.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
except ImportError:  # pragma: no cover
    sys.exit("seq2seq_torch.py needs PyTorch (pip install torch)")

MAX_INPUT = 32
MAX_OUTPUT = 32


# ----------------------------------------------------------------------------- data

def read_dict(path):
    """Returns {word: [pronunciation tuple, ...]} in file order; words ASCII-lower-cased."""
    words = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith(";;;"):
                continue
            parts = line.split()
            if len(parts) < 2:
                sys.exit(f"{path}:{n}: a word without phonemes")
            w = parts[0]
            if w.endswith(")") and "(" in w:
                w = w[: w.rindex("(")]
            w = w.lower()
            words.setdefault(w, []).append(tuple(parts[1:]))
    return words


def split_words(words, val_frac, seed):
    """(train, val) dicts by word; alternatives stay with their word."""
    keys = sorted(words)
    rng = random.Random(seed)
    rng.shuffle(keys)
    n_val = int(round(len(keys) * val_frac))
    val = {k: words[k] for k in keys[:n_val]}
    train = {k: words[k] for k in keys[n_val:]}
    return train, val


class Vocabs:
    """Character ids (0 START, 1 END, 2.. sorted chars, as micrornn's Vocab) and phoneme ids."""

    def __init__(self, train):
        chars = sorted({c for w in train for c in w})
        self.chars = {c: i + 2 for i, c in enumerate(chars)}
        self.v_in = len(chars) + 2
        phs = sorted({p for prons in train.values() for pr in prons for p in pr})
        self.phonemes = phs
        self.ph_id = {p: i for i, p in enumerate(phs)}
        self.boundary = len(phs)
        self.p = len(phs) + 1

    def encode_word(self, w):
        """Character ids of a lower-cased word; None when a character is not in the vocabulary."""
        if any(c not in self.chars for c in w):
            return None
        return [self.chars[c] for c in w]


def make_pairs(d, voc):
    """(char ids, phoneme ids) per pronunciation; alternatives are further pairs."""
    pairs = []
    for w, prons in d.items():
        x = voc.encode_word(w)
        if not x or len(x) > MAX_INPUT:
            continue
        for pr in prons:
            if len(pr) > MAX_OUTPUT or any(p not in voc.ph_id for p in pr):
                continue
            pairs.append((x, [voc.ph_id[p] for p in pr]))
    return pairs


def batches(pairs, batch, rng):
    """Shuffled mini-batches, no length bucketing (padding is masked out of loss and attention;
    the encoder runs packed, so its final states are those of each word's last character)."""
    idx = list(range(len(pairs)))
    rng.shuffle(idx)
    for i in range(0, len(idx), batch):
        yield [pairs[j] for j in idx[i: i + batch]]


def collate(chunk, boundary):
    """Padded tensors: chars, chars reversed per word, lengths, decoder inputs, targets (-100 pad)."""
    b = len(chunk)
    tx = max(len(x) for x, _ in chunk)
    ty = max(len(y) for _, y in chunk) + 1
    x = torch.zeros(b, tx, dtype=torch.long)
    xr = torch.zeros(b, tx, dtype=torch.long)  # each word reversed within its length
    lens = torch.tensor([len(s) for s, _ in chunk])
    yin = torch.full((b, ty), boundary, dtype=torch.long)
    yout = torch.full((b, ty), -100, dtype=torch.long)
    for i, (s, t) in enumerate(chunk):
        x[i, : len(s)] = torch.tensor(s)
        xr[i, : len(s)] = torch.tensor(s[::-1])
        yin[i, 1: len(t) + 1] = torch.tensor(t)
        yout[i, : len(t)] = torch.tensor(t)
        yout[i, len(t)] = boundary
    return x, xr, lens, yin, yout


# ----------------------------------------------------------------------------- model

class Seq2seq(nn.Module):
    """Bidirectional encoder (two stacks of H/2), decoder of H, dot attention, Linear over [h; c]."""

    def __init__(self, cell, v_in, p, hidden, embed, layers):
        super().__init__()
        assert hidden % 2 == 0, "--hidden must be even (H/2 per encoder direction)"
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell]
        he = hidden // 2
        self.cell, self.layers, self.hidden = cell, layers, hidden
        self.emb_f = nn.Embedding(v_in, embed)
        self.emb_b = nn.Embedding(v_in, embed)
        self.enc_f = rnn(embed, he, layers, batch_first=True)
        self.enc_b = rnn(embed, he, layers, batch_first=True)
        self.emb_d = nn.Embedding(p, embed)
        self.dec = rnn(embed, hidden, layers, batch_first=True)
        self.out = nn.Linear(2 * hidden, p)

    def encode(self, x, xr, lens):
        """Returns (e (B,T,H), padding mask (B,T) True at padding, decoder initial state)."""
        b, t = x.shape
        pf = pack_padded_sequence(self.emb_f(x), lens, batch_first=True, enforce_sorted=False)
        pb = pack_padded_sequence(self.emb_b(xr), lens, batch_first=True, enforce_sorted=False)
        of, sf = self.enc_f(pf)
        ob, sb = self.enc_b(pb)
        of, _ = pad_packed_sequence(of, batch_first=True, total_length=t)
        ob, _ = pad_packed_sequence(ob, batch_first=True, total_length=t)
        # backward outputs in reading order x_T..x_1 -> put b_j at position j
        pos = torch.arange(t).unsqueeze(0)
        rev = (lens.unsqueeze(1) - 1 - pos).clamp(min=0)
        ob = ob.gather(1, rev.unsqueeze(2).expand(-1, -1, ob.shape[2]))
        e = torch.cat([of, ob], dim=2)
        mask = pos >= lens.unsqueeze(1)
        if self.cell == "lstm":
            state = (torch.cat([sf[0], sb[0]], 2), torch.cat([sf[1], sb[1]], 2))
        else:
            state = torch.cat([sf, sb], 2)
        return e, mask, state

    def decode(self, yin, e, mask, state):
        """Logits (B,Ty,P) for decoder inputs yin from state, and the state after them."""
        h, state = self.dec(self.emb_d(yin), state)           # (B,Ty,H)
        s = torch.bmm(h, e.transpose(1, 2))                     # (B,Ty,T), no scaling
        s = s.masked_fill(mask.unsqueeze(1), float("-inf"))
        c = torch.bmm(torch.softmax(s, dim=2), e)               # (B,Ty,H)
        return self.out(torch.cat([h, c], dim=2)), state

    def forward(self, x, xr, lens, yin):
        """Teacher-forced logits (B,Ty,P)."""
        e, mask, state = self.encode(x, xr, lens)
        logits, _ = self.decode(yin, e, mask, state)
        return logits

    @torch.no_grad()
    def greedy(self, x, xr, lens, boundary):
        """Phoneme ids per word: argmax until BOUNDARY, at most MAX_OUTPUT."""
        e, mask, state = self.encode(x, xr, lens)
        b = x.shape[0]
        prev = torch.full((b, 1), boundary, dtype=torch.long)
        out = []
        done = torch.zeros(b, dtype=torch.bool)
        for _ in range(MAX_OUTPUT + 1):
            logits, state = self.decode(prev, e, mask, state)
            nxt = logits[:, 0].argmax(dim=1)  # first maximum = lowest id on ties
            out.append(nxt)
            done |= nxt == boundary
            if bool(done.all()):
                break
            prev = nxt.unsqueeze(1)
        seqs = torch.stack(out, 1).tolist()
        res = []
        for s in seqs:
            k = s.index(boundary) if boundary in s else len(s)
            res.append(s[: min(k, MAX_OUTPUT)])
        return res


# ----------------------------------------------------------------------------- metrics

def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def evaluate(model, val, voc, limit=None, batch=256):
    """(PER, WER, words) over the validation words with greedy decoding."""
    model.eval()
    items = []
    for w, prons in val.items():
        x = voc.encode_word(w)
        if x and len(x) <= MAX_INPUT:
            items.append((x, prons))
    if limit:
        items = items[:limit]
    edits = ref_len = wrong = 0
    for i in range(0, len(items), batch):
        chunk = items[i: i + batch]
        xb, xrb, lens, _, _ = collate([(x, [0]) for x, _ in chunk], voc.boundary)
        for ids, (_, prons) in zip(model.greedy(xb, xrb, lens, voc.boundary), chunk):
            hyp = [voc.phonemes[k] for k in ids]
            best = min(((edit_distance(hyp, list(r)), len(r)) for r in prons))
            edits += best[0]
            ref_len += best[1]
            wrong += tuple(hyp) not in prons
    model.train()
    return edits / max(ref_len, 1), wrong / max(len(items), 1), len(items)


# ----------------------------------------------------------------------------- main

WARMUP_FRAC = 0.02  # micrornn: host-trainer/src/train/config.rs
LR_FLOOR = 0.02


def lr_at(args, step, total):
    """micrornn's schedule: linear warm-up, then cosine decay to LR_FLOOR * lr."""
    if args.schedule == "constant":
        return args.lr
    total = max(total, 1)
    warm = max(total * WARMUP_FRAC, 1.0)
    if step < warm:
        f = (step + 1) / warm
    else:
        t = min((step - warm) / max(total - warm, 1.0), 1.0)
        f = LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * t))
    return args.lr * f


def parse_args():
    ap = argparse.ArgumentParser(
        description="Train micrornn's seq2seq (G2P) model shape in PyTorch; print predicted "
                    "phonemes/s (training throughput) and, unless --no-eval, validation PER/WER. "
                    "With --micrornn BIN, first runs `BIN train --task seq2seq` with the same shape "
                    "and settings and prints both throughputs side by side.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--data", default="data/cmudict-train.dict", help="CMUdict-style file")
    ap.add_argument("--cell", choices=["gru", "lstm", "rnn"], default="gru",
                    help="recurrent cell of all three stacks")
    ap.add_argument("--hidden", type=int, default=256,
                    help="decoder width H (even); encoder H/2 per direction")
    ap.add_argument("--embed", type=int, default=32, help="embedding width E (all three tables)")
    ap.add_argument("--layers", type=int, default=1, help="layers L of each stack")
    ap.add_argument("--batch", type=int, default=64, help="word pairs per step")
    ap.add_argument("--lr", type=float, default=0.004, help="peak learning rate (AdamW)")
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                    help="cosine: micrornn's (linear warm-up over 2%% of the steps, cosine decay to "
                         "2%% of --lr at the last step); constant: --lr throughout")
    ap.add_argument("--weight-decay", type=float, default=0.05,
                    help="decoupled weight decay per unit of lr (AdamW), as micrornn's")
    ap.add_argument("--clip", type=float, default=1.0, help="global gradient-norm clip (0: none)")
    ap.add_argument("--epochs", type=float, default=1.0,
                    help="epochs (fractions allowed; whole epochs with --micrornn)")
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="stop after this many seconds of training (0: no limit; the lr schedule "
                         "still spans --epochs)")
    ap.add_argument("--max-steps", type=int, default=0,
                    help="stop after this many steps (0: no limit; the lr schedule then spans them)")
    ap.add_argument("--train-frac", type=float, default=1.0,
                    help="use this share of the training words")
    ap.add_argument("--val-frac", type=float, default=0.05, help="share of words held out (by word)")
    ap.add_argument("--val-limit", type=int, default=0,
                    help="evaluate at most this many validation words during training (0: all); "
                         "the last evaluation uses all")
    ap.add_argument("--eval-every", type=float, default=1.0, help="evaluate every this many epochs")
    ap.add_argument("--no-eval", action="store_true", help="throughput only")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (and micrornn's --threads)")
    ap.add_argument("--seed", type=int, default=1, help="seed of weights, split and batch order")
    ap.add_argument("--micrornn", metavar="BIN",
                    help="also run BIN train --task seq2seq (same data, shape, epochs, batch, lr, "
                         "weight decay, clip, seed, threads, val-frac) first, and compare")
    args = ap.parse_args()
    if args.hidden < 2 or args.hidden % 2:
        ap.error("--hidden must be even (H/2 per encoder direction)")
    if args.micrornn and (args.epochs != int(args.epochs) or args.epochs < 1):
        ap.error("--micrornn needs whole --epochs")
    return args


def run_micrornn(args):
    """Runs micrornn's trainer with the same settings; returns its figures (phonemes/s wall)."""
    tmp = tempfile.mkdtemp(prefix="s2s-bench-")
    out = os.path.join(tmp, "bench.mrnn")
    cmd = [
        args.micrornn, "train", "--task", "seq2seq", "--data", args.data, "--out", out,
        "--cell", args.cell, "--layers", str(args.layers), "--hidden", str(args.hidden),
        "--embed", str(args.embed), "--epochs", str(int(args.epochs)),
        "--batch-size", str(args.batch), "--lr", str(args.lr),
        "--weight-decay", str(args.weight_decay), "--clip", str(args.clip),
        "--seed", str(args.seed), "--threads", str(args.threads),
        "--val-frac", str(args.val_frac), "--quiet",
    ]
    print("$", " ".join(cmd), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.exit("micrornn train failed")
    rate = re.search(r"training ([0-9.]+) phonemes/s", p.stdout)
    if not rate:
        sys.exit("cannot read micrornn's output (no 'training N phonemes/s')")
    return {
        "phonemes_per_s": float(rate.group(1)),
        "cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def train_torch(args):
    """Trains the PyTorch twin; returns {"phonemes_per_s": wall, "per_cpu_s": ...}."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    words = read_dict(args.data)
    train, val = split_words(words, args.val_frac, args.seed)
    if args.train_frac < 1.0:
        keys = sorted(train)
        random.Random(args.seed + 1).shuffle(keys)
        train = {k: train[k] for k in keys[: int(len(keys) * args.train_frac)]}
    voc = Vocabs(train)
    pairs = make_pairs(train, voc)
    model = Seq2seq(args.cell, voc.v_in, voc.p, args.hidden, args.embed, args.layers)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"data {args.data}: {len(train)} training words ({len(pairs)} pairs), {len(val)} "
          f"validation words; {voc.v_in} input ids, P={voc.p} output tokens")
    print(f"model {args.cell} L={args.layers} H={args.hidden} (He={args.hidden // 2}) E={args.embed}: "
          f"{n_params} parameters; batch {args.batch}, lr {args.lr} {args.schedule}, "
          f"weight decay {args.weight_decay}, clip {args.clip}, "
          f"threads {args.threads}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, eps=1e-8)

    steps_per_epoch = math.ceil(len(pairs) / args.batch)
    total_steps = int(round(args.epochs * steps_per_epoch))
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    eval_steps = max(1, int(round(args.eval_every * steps_per_epoch)))
    step = 0
    train_time = 0.0
    cpu_time = 0.0
    tokens_all = 0
    tok = 0
    loss_sum = 0.0
    t_seg = time.perf_counter()
    stop = False
    while not stop:
        for chunk in batches(pairs, args.batch, rng):
            t0 = time.perf_counter()
            c0 = time.process_time()
            for g in opt.param_groups:
                g["lr"] = lr_at(args, step, total_steps)
            x, xr, lens, yin, yout = collate(chunk, voc.boundary)
            logits = model(x, xr, lens, yin)
            n = int((yout != -100).sum())
            loss = F.cross_entropy(logits.reshape(-1, voc.p), yout.reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            train_time += time.perf_counter() - t0
            cpu_time += time.process_time() - c0
            tok += n
            tokens_all += n
            loss_sum += float(loss.detach()) * n
            step += 1
            last = step >= total_steps or (args.max_seconds and train_time >= args.max_seconds)
            if step % eval_steps == 0 or last:
                seg = time.perf_counter() - t_seg
                line = (f"step {step} epoch {step / steps_per_epoch:.2f}: loss {loss_sum / tok:.4f}, "
                        f"{tok / seg:,.0f} phonemes/s, train {train_time:.0f} s wall, "
                        f"{cpu_time:.0f} s cpu")
                if not args.no_eval:
                    te = time.perf_counter()
                    limit = None if last else (args.val_limit or None)
                    per, wer, nw = evaluate(model, val, voc, limit)
                    line += (f"; val PER {100 * per:.2f}% WER {100 * wer:.2f}% ({nw} words, "
                             f"eval {time.perf_counter() - te:.0f} s)")
                print(line, flush=True)
                tok = 0
                loss_sum = 0.0
                t_seg = time.perf_counter()
            if last:
                stop = True
                break
    print(f"torch: {step} steps, {tokens_all} predicted phonemes in {train_time:.1f} s of training = "
          f"{tokens_all / train_time:,.0f} phonemes/s wall, {tokens_all / cpu_time:,.0f} per "
          f"CPU-second ({args.cell} L={args.layers} H={args.hidden} E={args.embed}, "
          f"batch {args.batch}, {args.threads} thread(s))")
    return {"phonemes_per_s": tokens_all / train_time, "per_cpu_s": tokens_all / cpu_time}


def main():
    args = parse_args()
    mr = run_micrornn(args) if args.micrornn else None
    pt = train_torch(args)
    if mr:
        print(f"training throughput, predicted phonemes/s ({args.cell} L={args.layers} H={args.hidden} "
              f"E={args.embed}, batch {args.batch}, {args.threads} thread(s)): "
              f"micrornn {mr['phonemes_per_s']:,.0f}, PyTorch {pt['phonemes_per_s']:,.0f} "
              f"(x{mr['phonemes_per_s'] / pt['phonemes_per_s']:.2f}); micrornn's whole run used "
              f"{mr['cpu_s']:.1f} CPU-s")


if __name__ == "__main__":
    main()
