#!/usr/bin/python3
"""Trains Gearbox's default ladder: char-level llama tiers on a task suite of checkable difficulty.

Run through scripts/train-ladder.sh, which chains the subcommands below and the Java exporter:

  data      writes the calibration and held-out JSONL rows (disjoint, never used for training)
  train     trains one tier; saves its tensors (float32, GGML order) + a JSON manifest for the
            Java exporter, PyTorch's own logits for probe prompts, and its greedy answers
  fixture   writes a tiny randomly initialised model the same way (for the Java export test)
  report    compares Gearbox's answers with PyTorch's and writes models/MODEL_CARD.md

Task suite (difficulty level L = 1..6; answers end with </s>):
  add:  L-digit + L-digit, sum written least-significant digit first   add:482+913=  -> 5931
        half the prompts have no carry at any position, half at least one (same surface)
  mul:  L-digit x 1 digit (2..9), product least-significant digit first mul:4821*7=   -> 74733
  rev:  2L lowercase letters reversed                                   rev:abcd=     -> dcba
  sort: 2L digits sorted ascending                                      sort:3141=    -> 1134

Everything is seeded: the same command gives the same rows, the same training batches for every
tier (equal data per tier) and the same weights (single-threaded PyTorch on the CPU).
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

TASKS = ("add", "mul", "rev", "sort")
LEVELS = (1, 2, 3, 4, 5, 6)
MAX_ANSWER_TOKENS = 24

# Vocabulary: SentencePiece layout Gearbox and llama.cpp expect (<unk>, <s>, </s>, 256 byte tokens),
# then one token per character. U+2581 is SentencePiece's space.
CHARS = "\u2581" + "0123456789" + "abcdefghijklmnopqrstuvwxyz" + "+-*=:,.?"
TOKENS = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + list(CHARS)
UNK, BOS, EOS = 0, 1, 2
CHAR_ID = {c: 259 + i for i, c in enumerate(CHARS)}

# Tiers: widths as LADDER-NOTES (28k/106k/605k without the byte tokens), feed-forward about 8/3 d.
TIERS = {
    "s": dict(n_embd=32, n_layer=2, n_head=2, n_ff=88, lr=3e-3, micro=1),
    "m": dict(n_embd=64, n_layer=2, n_head=2, n_ff=176, lr=2e-3, micro=2),
    "l": dict(n_embd=128, n_layer=3, n_head=4, n_ff=344, lr=1.5e-3, micro=4),
}
# micro: the batch is sorted by length and cut into this many micro-batches, each padded only to
# its own longest example (about 1.5x less padding on the largest tier); gradients are summed, so
# the step is the same as one over the whole batch.
FIXTURE = dict(n_embd=16, n_layer=2, n_head=2, n_ff=40, lr=0.0)
CONTEXT = 256
ROPE_BASE = 10000.0
RMS_EPS = 1e-5
PROBES = ["add:482+913=5931", "mul:4821*7=74733", "rev:abcdefghijkl=lkjihgfedcba", "sort:314159=113459"]


# ---------------------------------------------------------------------------------------------
# Task suite

def _number(rng, digits):
    """An L-digit number as a digit string (no leading zero unless L == 1)."""
    first = rng.randint(0 if digits == 1 else 1, 9)
    return str(first) + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))


def has_carry(a, b):
    """Whether column addition of a + b carries at any position."""
    carry = 0
    for x, y in zip(reversed(a.zfill(len(b))), reversed(b.zfill(len(a)))):
        carry = (int(x) + int(y) + carry) // 10
        if carry:
            return True
    return False


def _add(rng, level):
    if rng.random() < 0.5:
        # No carry anywhere: each column's digits sum to at most 9.
        a, b = [], []
        for i in range(level):
            lo = 1 if (i == 0 and level > 1) else 0
            while True:
                x, y = rng.randint(lo, 9), rng.randint(lo, 9)
                if x + y <= 9:
                    break
            a.append(str(x))
            b.append(str(y))
        a, b = "".join(a), "".join(b)
    else:
        while True:
            a, b = _number(rng, level), _number(rng, level)
            if has_carry(a, b):
                break
    return "add:%s+%s=" % (a, b), str(int(a) + int(b))[::-1]


def _mul(rng, level):
    a, b = _number(rng, level), rng.randint(2, 9)
    return "mul:%s*%d=" % (a, b), str(int(a) * b)[::-1]


def _rev(rng, level):
    s = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(2 * level))
    return "rev:%s=" % s, s[::-1]


def _sort(rng, level):
    s = "".join(str(rng.randint(0, 9)) for _ in range(2 * level))
    return "sort:%s=" % s, "".join(sorted(s))


GENERATORS = {"add": _add, "mul": _mul, "rev": _rev, "sort": _sort}


def make_rows(n, seed, exclude, prefix):
    """n rows, levels and tasks balanced (level = i mod 6, task cycling), then shuffled; no prompt
    repeats within the file or appears in `exclude`."""
    rng = random.Random(seed)
    rows, seen = [], set()
    for i in range(n):
        level = LEVELS[i % len(LEVELS)]
        task = TASKS[(i // len(LEVELS)) % len(TASKS)]
        for _ in range(10000):
            prompt, ref = GENERATORS[task](rng, level)
            if prompt not in seen and prompt not in exclude:
                break
        else:
            raise SystemExit("could not find a fresh %s prompt at level %d" % (task, level))
        seen.add(prompt)
        rows.append(dict(task=task, level=level, prompt=prompt, reference=ref, grade="exact"))
    rng.shuffle(rows)
    for i, r in enumerate(rows):
        r["id"] = "%s-%04d" % (prefix, i)
    return [dict(id=r["id"], task=r["task"], level=r["level"], prompt=r["prompt"],
                 reference=r["reference"], grade=r["grade"]) for r in rows]


def encode(text):
    return [BOS] + [CHAR_ID[c] for c in text.replace(" ", "\u2581")]


def decode(ids):
    return "".join(TOKENS[i] for i in ids if i >= 259).replace("\u2581", " ")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def cmd_data(args):
    os.makedirs(os.path.join(args.models, "data"), exist_ok=True)
    calib = make_rows(args.rows, args.seed + 1, set(), "calib")
    held = make_rows(args.rows, args.seed + 2, {r["prompt"] for r in calib}, "heldout")
    assert not ({r["prompt"] for r in calib} & {r["prompt"] for r in held}), "calibration and held-out overlap"
    write_jsonl(os.path.join(args.models, "data", "calibration.jsonl"), calib)
    write_jsonl(os.path.join(args.models, "data", "heldout.jsonl"), held)
    print("data: %d calibration + %d held-out rows, disjoint" % (len(calib), len(held)))


# ---------------------------------------------------------------------------------------------
# Model: Gearbox's llama forward pass

def build_model(torch, cfg, vocab):
    nn = torch.nn
    F = torch.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + RMS_EPS) * self.weight

    class Block(nn.Module):
        def __init__(self, d, h, ff):
            super().__init__()
            self.h, self.hd = h, d // h
            self.attn_norm, self.ffn_norm = RMSNorm(d), RMSNorm(d)
            self.wq, self.wk, self.wv, self.wo = (nn.Linear(d, d, bias=False) for _ in range(4))
            self.w_gate, self.w_up = nn.Linear(d, ff, bias=False), nn.Linear(d, ff, bias=False)
            self.w_down = nn.Linear(ff, d, bias=False)

        def rope(self, x, cos, sin):
            # GGML "normal" rope: rotate adjacent pairs (2i, 2i+1) by pos * base^(-2i/head_dim).
            x0, x1 = x[..., 0::2], x[..., 1::2]
            return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)

        def forward(self, x, cos, sin, mask):
            B, T, D = x.shape
            y = self.attn_norm(x)
            q = self.wq(y).view(B, T, self.h, self.hd).transpose(1, 2)
            k = self.wk(y).view(B, T, self.h, self.hd).transpose(1, 2)
            v = self.wv(y).view(B, T, self.h, self.hd).transpose(1, 2)
            q, k = self.rope(q, cos, sin), self.rope(k, cos, sin)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
            x = x + self.wo(y)
            y = self.ffn_norm(x)
            return x + self.w_down(F.silu(self.w_gate(y)) * self.w_up(y))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            d, L = cfg["n_embd"], cfg["n_layer"]
            self.hd = d // cfg["n_head"]
            self.tok = nn.Embedding(vocab, d)
            self.blocks = nn.ModuleList(Block(d, cfg["n_head"], cfg["n_ff"]) for _ in range(L))
            self.norm = RMSNorm(d)
            self.out = nn.Linear(d, vocab, bias=False)
            for name, p in self.named_parameters():
                if p.dim() == 2:
                    std = 0.02 / math.sqrt(2 * L) if name.endswith(("wo.weight", "w_down.weight")) else 0.02
                    nn.init.normal_(p, 0.0, std)

        def hidden(self, idx):
            T = idx.shape[1]
            dtype = self.tok.weight.dtype
            pos = torch.arange(T, dtype=torch.float64)[:, None]
            freq = ROPE_BASE ** (-2.0 * torch.arange(self.hd // 2, dtype=torch.float64) / self.hd)
            theta = pos * freq
            cos, sin = theta.cos().to(dtype), theta.sin().to(dtype)
            mask = torch.full((T, T), float("-inf"), dtype=dtype).triu(1)
            x = self.tok(idx)
            for b in self.blocks:
                x = b(x, cos, sin, mask)
            return self.norm(x)

        def forward(self, idx):
            return self.out(self.hidden(idx))

    return Llama()


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def ggml_tensors(model, cfg):
    """(llama.cpp name, GGML shape, float32 values in row-major order) per tensor. A PyTorch
    Linear weight [out, in] is GGML shape [in, out] with the same bytes."""
    out = [("token_embd.weight", model.tok.weight)]
    for i, b in enumerate(model.blocks):
        p = "blk.%d." % i
        out += [(p + "attn_norm.weight", b.attn_norm.weight), (p + "attn_q.weight", b.wq.weight),
                (p + "attn_k.weight", b.wk.weight), (p + "attn_v.weight", b.wv.weight),
                (p + "attn_output.weight", b.wo.weight), (p + "ffn_norm.weight", b.ffn_norm.weight),
                (p + "ffn_gate.weight", b.w_gate.weight), (p + "ffn_up.weight", b.w_up.weight),
                (p + "ffn_down.weight", b.w_down.weight)]
    out += [("output_norm.weight", model.norm.weight), ("output.weight", model.out.weight)]
    return [(n, list(reversed(t.shape)), t.detach().float().contiguous().view(-1).tolist()) for n, t in out]


def save_tier(torch, model, cfg, name, workdir, extra):
    """Tensors to <name>.bin (little-endian float32, concatenated) and <name>.manifest.json."""
    os.makedirs(workdir, exist_ok=True)
    entries, offset = [], 0
    with open(os.path.join(workdir, name + ".bin"), "wb") as f:
        for tname, shape, values in ggml_tensors(model, cfg):
            f.write(struct.pack("<%df" % len(values), *values))
            entries.append(dict(name=tname, shape=shape, offset=offset, elements=len(values)))
            offset += 4 * len(values)
    # Reference logits for the probe prompts, in float64 from the float32 weights, every position.
    m64 = build_model(torch, cfg, len(TOKENS)).double()
    m64.load_state_dict(model.state_dict())
    probes = []
    with torch.no_grad():
        for text in PROBES:
            ids = encode(text)
            logits = m64(torch.tensor([ids]))[0]
            probes.append(dict(text=text, tokens=ids, logits=[[round(v, 7) for v in row] for row in logits.tolist()]))
    manifest = dict(
        format="gearbox-tier-v1", name=name, architecture="llama",
        context_length=CONTEXT, embedding_length=cfg["n_embd"], block_count=cfg["n_layer"],
        head_count=cfg["n_head"], head_count_kv=cfg["n_head"], feed_forward_length=cfg["n_ff"],
        rope_freq_base=ROPE_BASE, rms_eps=RMS_EPS, tied_output=False,
        tokens=TOKENS, bos_id=BOS, eos_id=EOS, unk_id=UNK,
        parameters=param_count(model), data_file=name + ".bin", tensors=entries, probes=probes, training=extra)
    with open(os.path.join(workdir, name + ".manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    with open(os.path.join(workdir, name + ".probes.json"), "w") as f:   # committed beside the GGUF
        json.dump(dict(name=name, note="PyTorch logits (float64 forward of the float32 weights) at every position",
                       probes=probes), f)


# ---------------------------------------------------------------------------------------------
# Training

class Batches:
    """Seeded stream of training batches, identical for every tier; eval prompts never appear."""

    def __init__(self, seed, exclude, batch):
        self.rng, self.exclude, self.batch = random.Random(seed), exclude, batch

    def sample(self):
        while True:
            task, level = self.rng.choice(TASKS), self.rng.choice(LEVELS)
            prompt, ref = GENERATORS[task](self.rng, level)
            if prompt not in self.exclude:
                return prompt, ref

    def next(self, torch, micro=1):
        """The next batch as `micro` (tokens, target mask) pairs, shortest examples first."""
        seqs = []
        for _ in range(self.batch):
            prompt, ref = self.sample()
            p = encode(prompt)
            seqs.append((p + [CHAR_ID[c] for c in ref] + [EOS], len(p)))
        seqs.sort(key=lambda s: len(s[0]))
        out, size = [], -(-self.batch // micro)
        for part in (seqs[i:i + size] for i in range(0, self.batch, size)):
            T = max(len(s) for s, _ in part)
            idx = torch.full((len(part), T), EOS, dtype=torch.long)
            tgt_mask = torch.zeros((len(part), T - 1), dtype=torch.bool)
            for i, (s, start) in enumerate(part):
                idx[i, :len(s)] = torch.tensor(s)
                tgt_mask[i, start - 1:len(s) - 1] = True   # predict answer tokens and </s> only
            out.append((idx, tgt_mask))
        return out


def greedy_answers(torch, model, prompts):
    """Greedy generation until </s> (at most MAX_ANSWER_TOKENS) for each prompt, batched by length."""
    answers = {}
    by_len = {}
    for p in set(prompts):
        by_len.setdefault(len(encode(p)), []).append(p)
    with torch.no_grad():
        for _, group in sorted(by_len.items()):
            for i in range(0, len(group), 256):
                chunk = group[i:i + 256]
                idx = torch.tensor([encode(p) for p in chunk])
                done = torch.zeros(len(chunk), dtype=torch.bool)
                gen = []
                for _ in range(MAX_ANSWER_TOKENS):
                    nxt = model(idx)[:, -1].argmax(-1)
                    gen.append(nxt)
                    done |= nxt == EOS
                    if bool(done.all()):
                        break
                    idx = torch.cat([idx, nxt[:, None]], dim=1)
                gen = torch.stack(gen, 1).tolist()
                for p, g in zip(chunk, gen):
                    toks = g[:g.index(EOS)] if EOS in g else g
                    answers[p] = decode(toks).strip()
    return answers


def cmd_train(args):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    cfg = TIERS[args.tier]
    name = "tier-" + args.tier
    eval_rows = read_jsonl(os.path.join(args.models, "data", "calibration.jsonl")) + \
        read_jsonl(os.path.join(args.models, "data", "heldout.jsonl"))
    exclude = {r["prompt"] for r in eval_rows}
    model = build_model(torch, cfg, len(TOKENS))
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.01), dict(params=no_decay, weight_decay=0.0)],
                            lr=cfg["lr"], betas=(0.9, 0.98))
    batches = Batches(args.seed + 100, exclude, args.batch)   # same stream for every tier
    warmup = min(200, max(1, args.steps // 10))
    log = open(os.path.join(args.work, name + ".log"), "w")
    t0 = time.time()
    ema = None
    print("%s: %d parameters, %d steps, batch %d" % (name, param_count(model), args.steps, args.batch), flush=True)
    for step in range(args.steps):
        lr = cfg["lr"] * (step + 1) / warmup if step < warmup else \
            cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, args.steps - warmup))))
        for g in opt.param_groups:
            g["lr"] = lr
        parts = batches.next(torch, cfg["micro"])
        n_targets = sum(int(mask.sum()) for _, mask in parts)
        opt.zero_grad(set_to_none=True)
        total = 0.0
        for idx, mask in parts:
            # Mean over all answer tokens of the whole batch, accumulated micro-batch by micro-batch.
            logits = model.out(model.hidden(idx[:, :-1])[mask])
            loss = torch.nn.functional.cross_entropy(logits, idx[:, 1:][mask], reduction="sum") / n_targets
            loss.backward()
            total += loss.item()
        loss = torch.tensor(total)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 100 == 0 or step == args.steps - 1:
            line = "%s step %d/%d loss %.4f lr %.2e %.0fs" % (name, step, args.steps, ema, lr, time.time() - t0)
            log.write(line + "\n")
            log.flush()
            if step % 500 == 0 or step == args.steps - 1:
                print(line, flush=True)
    train_s = time.time() - t0
    model.eval()
    held = read_jsonl(os.path.join(args.models, "data", "heldout.jsonl"))
    answers = greedy_answers(torch, model, [r["prompt"] for r in held])
    write_jsonl(os.path.join(args.work, name + ".python-answers.jsonl"),
                [dict(id=r["id"], answer=answers[r["prompt"]]) for r in held])
    acc = sum(answers[r["prompt"]] == r["reference"] for r in held) / len(held)
    print("%s: trained in %.0fs, final loss %.4f, PyTorch greedy accuracy on held-out %.1f%%"
          % (name, train_s, ema, 100 * acc), flush=True)
    save_tier(torch, model, cfg, name, args.work, dict(
        steps=args.steps, batch=args.batch, lr=cfg["lr"], warmup=warmup, schedule="cosine to 0.1x",
        optimizer="AdamW(0.9, 0.98), weight decay 0.01 on matrices", seed=args.seed,
        train_seconds=round(train_s, 1), final_loss=round(ema, 5), python_heldout_accuracy=acc))


def cmd_fixture(args):
    """A tiny random model in the exporter's input format, for the Java export test."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    model = build_model(torch, FIXTURE, len(TOKENS))
    with torch.no_grad():   # non-trivial norm gains, so a missing or misplaced norm shows in the logits
        for n, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1 + 0.3 * torch.randn_like(p))
            else:
                p.mul_(10.0)   # bigger weights: logits far from uniform, attention far from flat
    save_tier(torch, model, FIXTURE, args.name, args.work, dict(steps=0, note="random initialisation, test fixture"))
    print("fixture: %s (%d parameters) in %s" % (args.name, param_count(model), args.work))


# ---------------------------------------------------------------------------------------------
# Report and model card

def cmd_report(args):
    held = read_jsonl(os.path.join(args.models, "data", "heldout.jsonl"))
    calib = read_jsonl(os.path.join(args.models, "data", "calibration.jsonl"))
    tiers = [t for t in ("s", "m", "l") if os.path.exists(os.path.join(args.work, "tier-%s.manifest.json" % t))]
    gearbox = {}
    for row in read_jsonl(args.gearbox_answers):
        gearbox.setdefault(row["tier"], {})[row["id"]] = row["answer"]
    manifests, acc, mismatches = {}, {}, {}
    for t in tiers:
        name = "tier-" + t
        with open(os.path.join(args.work, name + ".manifest.json")) as f:
            manifests[t] = json.load(f)
        py = {r["id"]: r["answer"] for r in read_jsonl(os.path.join(args.work, name + ".python-answers.jsonl"))}
        gb = gearbox[name]
        mismatches[t] = [r["id"] for r in held if py[r["id"]] != gb[r["id"]]]
        acc[t] = {r["id"]: gb[r["id"]] == r["reference"] for r in held}

    def pct(t, rows):
        return 100.0 * sum(acc[t][r["id"]] for r in rows) / max(1, len(rows))

    L = []
    L.append("# Gearbox default ladder: model card\n")
    L.append("Three char-level llama-architecture decoders trained from scratch by `scripts/train-ladder.sh`"
             " on a synthetic task suite whose difficulty a reader can check. They are the tiers of"
             " `ladder.yaml`; the smallest one is also the gatekeeper. Toy models: they know only these four tasks.\n")
    L.append("## Reproduce\n")
    L.append("```\n%s\n```\n" % args.command)
    L.append("Wall time of that run: %s on %s (2 tiers trained at a time, one process per core)."
             " Training is seeded and single-threaded, so the same command"
             " gives the same rows and batches; float summation order may differ across machines/BLAS builds.\n"
             % (args.wall, args.machine))
    L.append("## Task suite and prompt format\n")
    L.append("Every prompt is `TASK:OPERANDS=`; the answer follows directly and ends with `</s>`"
             " (the tokenizer adds `<s>` in front). Level L = 1..6 sets the size:\n")
    L.append("| task | prompt (level 3) | answer | what is asked |")
    L.append("|---|---|---|---|")
    L.append("| add | `add:482+913=` | `5931` | L-digit + L-digit; the sum written **least-significant digit first** (1395 reversed). Half the prompts have no carry in any column, half at least one carry: same look, different difficulty |")
    L.append("| mul | `mul:482*7=` | `4733` | L-digit x one digit (2..9); the product least-significant digit first (3374 reversed) |")
    L.append("| rev | `rev:qwerty=` | `ytrewq` | reverse 2L lowercase letters |")
    L.append("| sort | `sort:314159=` | `113459` | sort 2L digits ascending |")
    L.append("")
    L.append("Reversed arithmetic answers make addition learnable for models this small (LADDER-NOTES);"
             " a reader checks an answer by reading it backwards.\n")
    L.append("## Data\n")
    L.append("- Training: an endless seeded stream; each example draws a task and a level uniformly;"
             " batches of %d; every tier sees exactly the same batches, in the same order."
             " Loss on answer tokens and `</s>` only." % manifests[tiers[0]]["training"]["batch"])
    L.append("- `data/calibration.jsonl` (%d rows) and `data/heldout.jsonl` (%d rows): levels and tasks balanced"
             " (each level 1/6, each task 1/4 within it, shuffled), no prompt repeated within a file, the two"
             " files disjoint, and no prompt of either ever used in training (checked by set membership while"
             " sampling). Row format: `{\"id\", \"task\", \"level\", \"prompt\", \"reference\", \"grade\": \"exact\"}`.\n"
             % (len(calib), len(held)))
    L.append("## Tiers\n")
    L.append("Vocabulary: %d tokens (`<unk>` 0, `<s>` 1, `</s>` 2, 256 byte tokens, %d characters);"
             " SentencePiece model `llama`, no space prefix. All weights F32. RMSNorm eps 1e-5, rope base 10000"
             " (GGML normal mode), SwiGLU feed-forward, untied output, context %d.\n"
             % (len(TOKENS), len(CHARS), CONTEXT))
    L.append("| tier | file | d_model | layers | heads | ff | parameters | steps | lr | train time | final loss |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for t in tiers:
        m = manifests[t]
        tr = m["training"]
        L.append("| %s | `tier-%s.gguf` | %d | %d | %d | %d | %s | %d | %g | %.0f s | %.4f |" % (
            t, t, m["embedding_length"], m["block_count"], m["head_count"], m["feed_forward_length"],
            "{:,}".format(m["parameters"]), tr["steps"], tr["lr"], tr["train_seconds"], tr["final_loss"]))
    L.append("\nOptimizer: %s, %s after %d warm-up steps, gradient clipping 1.0, seed %d.\n" % (
        manifests[tiers[0]]["training"]["optimizer"], manifests[tiers[0]]["training"]["schedule"],
        manifests[tiers[0]]["training"]["warmup"], manifests[tiers[0]]["training"]["seed"]))
    L.append("## Accuracy on `data/heldout.jsonl` (greedy, exact match, %)\n")
    L.append("Measured by Gearbox itself (`dev.gearbox.ladder.train.TierEvaluator`: tokenizer, forward pass and"
             " greedy generation until `</s>`, at most 24 tokens, answer trimmed). PyTorch's own greedy answers"
             " agree on %s.\n" % ", ".join("%d/%d (tier %s)" % (len(held) - len(mismatches[t]), len(held), t) for t in tiers))
    L.append("| tier | " + " | ".join("L%d" % l for l in LEVELS) + " | all |")
    L.append("|---|" + "---|" * (len(LEVELS) + 1))
    for t in tiers:
        L.append("| %s | " % t + " | ".join("%.0f" % pct(t, [r for r in held if r["level"] == l]) for l in LEVELS)
                 + " | %.1f |" % pct(t, held))
    L.append("\nPer task and level (tier s / m / l):\n")
    L.append("| task | " + " | ".join("L%d" % l for l in LEVELS) + " | all |")
    L.append("|---|" + "---|" * (len(LEVELS) + 1))
    variants = [("add", lambda r: r["task"] == "add"),
                ("add, no carry", lambda r: r["task"] == "add" and not _carry_of(r["prompt"])),
                ("add, carries", lambda r: r["task"] == "add" and _carry_of(r["prompt"])),
                ("mul", lambda r: r["task"] == "mul"), ("rev", lambda r: r["task"] == "rev"),
                ("sort", lambda r: r["task"] == "sort")]
    for label, pred in variants:
        cells = []
        for l in LEVELS + ("all",):
            rows = [r for r in held if pred(r) and (l == "all" or r["level"] == l)]
            cells.append(" / ".join("%.0f" % pct(t, rows) for t in tiers))
        L.append("| %s | " % label + " | ".join(cells) + " |")
    L.append("")
    L.append("## Files\n")
    L.append("- `tier-s.gguf`, `tier-m.gguf`, `tier-l.gguf`: `general.architecture=llama`, llama.cpp tensor names,"
             " written by `dev.gearbox.ladder.train.TierExporter` (Gearbox's `GGUFWriter`) from the tensors and"
             " manifest that `scripts/train-ladder.py` saved (float32, GGML shape order).")
    L.append("- `ladder.yaml`: the ladder (gatekeeper = tier s; `router.json` appears once `gearbox calibrate` has run).")
    L.append("- `data/calibration.jsonl`, `data/heldout.jsonl`: task rows (see Data); `data/heldout-accuracy.json`:"
             " the accuracy table above as JSON.")
    L.append("- `reference/tier-*.probes.json`: PyTorch's logits (float64 forward of the trained float32 weights) at every"
             " position of a few probe prompts. `CommittedLadderTest` checks that Gearbox reproduces them to 1e-4 on"
             " every tier, that the accuracy above is what Gearbox measures, and that every reference in the data"
             " files is right.\n")
    L.append("## Limits\n")
    L.append("Toy models for demonstrating routing: they answer only prompts of exactly this format, with the"
             " characters of the vocabulary; anything else gives nonsense. Accuracy falls with the level in ways"
             " that depend on the task (see the tables), which is what a router has to learn.\n")
    with open(os.path.join(args.models, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(L))
    with open(os.path.join(args.models, "data", "heldout-accuracy.json"), "w") as f:
        json.dump({("tier-" + t): {"all": pct(t, held), **{"L%d" % l: pct(t, [r for r in held if r["level"] == l])
                                                          for l in LEVELS}} for t in tiers}, f, indent=1)
    for t in tiers:
        print("tier-%s: %s | all %.1f%% | PyTorch/Gearbox disagree on %d rows" % (
            t, " ".join("L%d %.0f" % (l, pct(t, [r for r in held if r["level"] == l])) for l in LEVELS),
            pct(t, held), len(mismatches[t])))
    if any(mismatches.values()):
        print("report: PyTorch and Gearbox answers differ on some rows: %s" % {t: v[:5] for t, v in mismatches.items() if v})


def _carry_of(prompt):
    a, b = prompt[len("add:"):-1].split("+")
    return has_carry(a, b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="models", help="output folder (ladder, data)")
    ap.add_argument("--work", default="build/ladder", help="intermediate files (tensors, manifests, logs)")
    ap.add_argument("--seed", type=int, default=1234)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("--rows", type=int, default=600)
    t = sub.add_parser("train")
    t.add_argument("--tier", choices=sorted(TIERS), required=True)
    t.add_argument("--steps", type=int, default=4500)
    t.add_argument("--batch", type=int, default=128)
    fx = sub.add_parser("fixture")
    fx.add_argument("--name", default="fixture")
    r = sub.add_parser("report")
    r.add_argument("--gearbox-answers", required=True)
    r.add_argument("--command", required=True)
    r.add_argument("--wall", required=True)
    r.add_argument("--machine", default="a 2-core CPU machine")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    dict(data=cmd_data, train=cmd_train, fixture=cmd_fixture, report=cmd_report)[args.cmd](args)


if __name__ == "__main__":
    main()
