#!/usr/bin/env python3
"""Trains SVF expert vectors (Transformer², arXiv 2501.06252) for tiers of Gearbox's default ladder.

Run through scripts/train-experts.sh, which chains the subcommands below and the Java side:

  train     one expert: tier x task x objective. Reads the tier's committed F32 GGUF (the exact
            weights Gearbox serves), takes the float64 SVD of the chosen matrices (singular values
            descending, as dev.gearbox.svf.SvfFactors indexes z), trains z (init 1) on freshly
            generated prompts of one task family, picks the checkpoint on a generated validation
            split, and saves z per tensor as JSON for dev.gearbox.svf.ExpertExporter
  report    per tier x task table from Gearbox's answers (TierEvaluator on dense W' models) and the
            section of models/MODEL_CARD.md between the svf-experts markers

SVF: W' = U diag(s*z) V^T * (sum s / sum s*z), for each chosen matrix W = U diag(s) V^T.

Objectives (the same z parameters, the same prompts, steps, batch and optimizer):
  reinforce   the paper's: sample answers (temperature 1, --samples per prompt), reward r = +1 if one
              is exactly the reference and -1 otherwise, loss = -mean((r - b) * log pi_z(answer | prompt))
              + kl * mean over generated tokens of KL(pi_z || pi_base); b = 0 as in the paper
              (--baseline none), the batch mean (mean) or the mean of the prompt's other samples (loo)
  supervised  the baseline: cross-entropy on the reference answer and </s>

Prompts: train-ladder.py's generator; the calibration and held-out prompts (models/data) and the
validation split are excluded from training by set membership, as train-ladder.py does.
"""
import argparse
import hashlib
import importlib.util
import json
import math
import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("train_ladder", os.path.join(HERE, "train-ladder.py"))
TL = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TL)

KINDS = {"mlp": ("ffn_gate", "ffn_up", "ffn_down"),
         "attn": ("attn_q", "attn_k", "attn_v", "attn_output"),
         "all": ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")}
# GGUF tensor kind -> the train-ladder.py module attribute holding it.
TORCH_NAME = {"attn_q": "wq", "attn_k": "wk", "attn_v": "wv", "attn_output": "wo",
              "ffn_gate": "w_gate", "ffn_up": "w_up", "ffn_down": "w_down",
              "attn_norm": "attn_norm", "ffn_norm": "ffn_norm"}
# No answer of the task suite is longer than 12 characters; with </s> that is 13 tokens, so a
# sampled answer that has not ended by then is wrong whatever follows.
SAMPLE_TOKENS = 14


# ---------------------------------------------------------------------------------------------
# GGUF (reading only what the ladder's F32 tiers use)

def read_gguf(path):
    """(metadata dict, {name: (ggml shape, float32 numpy array in row-major order)})."""
    import numpy as np
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t in scalar:
            return take(scalar[t])
        if t == 8:
            return string()
        if t == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        raise ValueError("%s: unknown GGUF value type %d" % (path, t))

    if buf[:4] != b"GGUF":
        raise ValueError("%s: not a GGUF file" % path)
    pos = 4
    version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    if version != 3:
        raise ValueError("%s: GGUF version %d, expected 3" % (path, version))
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    align = meta.get("general.alignment", 32)
    data = -(-pos // align) * align
    tensors = {}
    for name, dims, typ, off in infos:
        if typ != 0:
            raise ValueError("%s: tensor %s is GGML type %d; this reader takes F32 only (the ladder's tiers are F32)" % (path, name, typ))
        n = 1
        for d in dims:
            n *= d
        tensors[name] = (dims, np.frombuffer(buf, dtype="<f4", count=n, offset=data + off).copy())
    return meta, tensors


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_tier(torch, path):
    """The tier as train-ladder.py's torch module (float32), with the GGUF's exact weights."""
    meta, tensors = read_gguf(path)
    cfg = dict(n_embd=meta["llama.embedding_length"], n_layer=meta["llama.block_count"],
               n_head=meta["llama.attention.head_count"], n_ff=meta["llama.feed_forward_length"])
    if meta["tokenizer.ggml.tokens"] != TL.TOKENS:
        raise SystemExit("%s: vocabulary differs from train-ladder.py's" % path)
    model = TL.build_model(torch, cfg, len(TL.TOKENS))
    state = {}
    for name, (dims, values) in tensors.items():
        shape = list(reversed(dims))   # GGML [in, out] is torch [out, in], same bytes
        t = torch.from_numpy(values).view(*shape)
        if name == "token_embd.weight":
            state["tok.weight"] = t
        elif name == "output_norm.weight":
            state["norm.weight"] = t
        elif name == "output.weight":
            state["out.weight"] = t
        else:
            _, i, kind, _ = name.split(".")
            state["blocks.%s.%s.weight" % (i, TORCH_NAME[kind])] = t
    model.load_state_dict(state, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, cfg, tensors


def check_probes(torch, model, probes_path):
    """The loaded weights reproduce the logits train-ladder.py saved for the probe prompts."""
    with open(probes_path) as f:
        probes = json.load(f)["probes"]
    worst = 0.0
    with torch.no_grad():
        for p in probes:
            logits = model(torch.tensor([p["tokens"]]))[0].double()
            worst = max(worst, float((logits - torch.tensor(p["logits"], dtype=torch.float64)).abs().max()))
    if worst > 1e-3:
        raise SystemExit("%s: loaded tier's logits differ from the reference by %.2e" % (probes_path, worst))
    return worst


# ---------------------------------------------------------------------------------------------
# SVF

class Svf:
    """The chosen matrices' float64 SVD and W'(z) for each, as torch parameter overrides."""

    def __init__(self, torch, model, cfg, matrices):
        self.torch = torch
        self.names, self.params, self.u, self.s, self.v, self.base = [], [], [], [], [], []
        sd = dict(model.named_parameters())
        for i in range(cfg["n_layer"]):
            for kind in KINDS[matrices]:
                pname = "blocks.%d.%s.weight" % (i, TORCH_NAME[kind])
                w = sd[pname].detach().double()   # rows x cols = outputs x inputs, as SvfFactors.Shape
                u, s, vh = torch.linalg.svd(w, full_matrices=False)   # s descending
                err = float((u @ torch.diag(s) @ vh - w).abs().max() / w.abs().max())
                assert err < 1e-12, "SVD does not rebuild %s (%.1e)" % (pname, err)
                self.names.append("blk.%d.%s.weight" % (i, kind))
                self.params.append(pname)
                self.u.append(u)
                self.s.append(s)
                self.v.append(vh.T.contiguous())
                self.base.append(sd[pname].detach())
        self.u32 = [u.float() for u in self.u]
        self.s32 = [s.float() for s in self.s]
        self.vt32 = [v.T.contiguous().float() for v in self.v]

    def ranks(self):
        return [len(s) for s in self.s]

    def init_z(self):
        return [self.torch.ones(len(s), dtype=self.torch.float32, requires_grad=True) for s in self.s]

    def overrides(self, zs):
        """{param name: W'(z)} in float32, differentiable in z."""
        out = {}
        for pname, u, s, vt, z in zip(self.params, self.u32, self.s32, self.vt32, zs):
            sz = s * z
            out[pname] = (u * (sz * (s.sum() / sz.sum()))) @ vt
        return out

    def dense(self, zs):
        """W'(z) in float64 (for evaluation; the same formula as SvfFactors.reconstructDense)."""
        out = {}
        for pname, u, s, v, z in zip(self.params, self.u, self.s, self.v, zs):
            sz = s * z.detach().double()
            out[pname] = ((u * (sz * (s.sum() / sz.sum()))) @ v.T).float()
        return out


def logits_fn(torch, model, overrides):
    from torch.func import functional_call
    return lambda idx: functional_call(model, overrides, (idx,))


# ---------------------------------------------------------------------------------------------
# Prompts

def eval_prompts(models):
    rows = TL.read_jsonl(os.path.join(models, "data", "calibration.jsonl")) + \
        TL.read_jsonl(os.path.join(models, "data", "heldout.jsonl"))
    return {r["prompt"] for r in rows}


def validation_rows(task, per_level, seed, exclude):
    """A fixed generated split for picking the checkpoint: per_level prompts of each level, no
    repeats, none of the calibration/held-out prompts (level-1 addition has only 100 prompts in
    all, so it may get fewer)."""
    rng = random.Random(seed)
    rows, seen = [], set()
    for level in TL.LEVELS:
        got = 0
        for _ in range(per_level * 200):
            if got == per_level:
                break
            prompt, ref = TL.GENERATORS[task](rng, level)
            if prompt in seen or prompt in exclude:
                continue
            seen.add(prompt)
            rows.append(dict(task=task, level=level, prompt=prompt, reference=ref))
            got += 1
    return rows


class TaskStream:
    """Seeded fresh training prompts of one task, level uniform; excluded prompts never appear."""

    def __init__(self, task, seed, exclude):
        self.task, self.rng, self.exclude = task, random.Random(seed), exclude

    def batch(self, n):
        out = []
        while len(out) < n:
            prompt, ref = TL.GENERATORS[self.task](self.rng, self.rng.choice(TL.LEVELS))
            if prompt not in self.exclude:
                out.append((prompt, ref))
        return out


def pad_batch(torch, seqs):
    """(tokens [B, T], target mask [B, T-1]) for (token list, answer start) pairs, right-padded."""
    T = max(len(s) for s, _ in seqs)
    idx = torch.full((len(seqs), T), TL.EOS, dtype=torch.long)
    mask = torch.zeros((len(seqs), T - 1), dtype=torch.bool)
    for i, (s, start) in enumerate(seqs):
        idx[i, :len(s)] = torch.tensor(s)
        mask[i, start - 1:len(s) - 1] = True
    return idx, mask


def generate(torch, f, prompts, max_tokens, sample, gen=None):
    """Answer token ids (with </s> if produced) for each prompt, in order; greedy or sampled at
    temperature 1 (a prompt listed k times gets k independent samples). Prompts are batched by
    length, so no padding enters the model."""
    out = [None] * len(prompts)
    by_len = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(TL.encode(p)), []).append(i)
    with torch.no_grad():
        for _, group in sorted(by_len.items()):
            idx = torch.tensor([TL.encode(prompts[i]) for i in group])
            done = torch.zeros(len(group), dtype=torch.bool)
            steps = []
            for _ in range(max_tokens):
                last = f(idx)[:, -1]
                if sample:
                    nxt = torch.multinomial(last.softmax(-1), 1, generator=gen)[:, 0]
                else:
                    nxt = last.argmax(-1)
                nxt = torch.where(done, torch.full_like(nxt, TL.EOS), nxt)
                steps.append(nxt)
                done |= nxt == TL.EOS
                if bool(done.all()):
                    break
                idx = torch.cat([idx, nxt[:, None]], dim=1)
            toks = torch.stack(steps, 1).tolist()
            for i, g in zip(group, toks):
                out[i] = g[:g.index(TL.EOS) + 1] if TL.EOS in g else g
    return out


def answer_text(ids):
    return TL.decode([i for i in ids if i != TL.EOS]).strip()


def accuracy(torch, f, rows, max_tokens):
    ans = generate(torch, f, [r["prompt"] for r in rows], max_tokens, sample=False)
    return sum(answer_text(a) == r["reference"] for a, r in zip(ans, rows)) / max(1, len(rows))


# ---------------------------------------------------------------------------------------------
# Training

def cmd_train(args):
    import torch
    torch.set_num_threads(1)
    seed = args.seed + 1000 * "sml".index(args.tier) + 100 * TL.TASKS.index(args.task)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model_path = os.path.join(args.models, "tier-%s.gguf" % args.tier)
    model, cfg, _ = load_tier(torch, model_path)
    probe_err = check_probes(torch, model, os.path.join(args.models, "reference", "tier-%s.probes.json" % args.tier))
    svf = Svf(torch, model, cfg, args.matrices)
    base_f = logits_fn(torch, model, {})

    exclude = eval_prompts(args.models)
    val = validation_rows(args.task, args.val_per_level, seed + 7, exclude)
    stream = TaskStream(args.task, seed + 11, exclude | {r["prompt"] for r in val})

    zs = svf.init_z()
    opt = torch.optim.Adam(zs, lr=args.lr)
    t0 = time.time()
    val0 = accuracy(torch, base_f, val, SAMPLE_TOKENS)
    best = dict(step=None, val=-1.0, z=None)
    history = [dict(step=0, val=val0)]
    tag = "%s-%s %s" % (args.tier, args.task, args.objective)
    print("%s: %d matrices (%s), %d z values; probe logits within %.1e; validation %d prompts, base %.1f%%"
          % (tag, len(svf.names), args.matrices, sum(svf.ranks()), probe_err, len(val), 100 * val0), flush=True)
    ema_r = None
    for step in range(1, args.steps + 1):
        batch = stream.batch(args.batch)
        over = svf.overrides(zs)
        f = logits_fn(torch, model, over)
        if args.objective == "supervised":
            seqs = [(TL.encode(p) + [TL.CHAR_ID[c] for c in ref] + [TL.EOS], len(TL.encode(p))) for p, ref in batch]
            idx, mask = pad_batch(torch, seqs)
            logits = f(idx[:, :-1])[mask]
            loss = torch.nn.functional.cross_entropy(logits, idx[:, 1:][mask])
            stat = float(loss)
        else:
            # --samples answers per prompt, sampled from the current z at temperature 1.
            k = args.samples
            prompts = [p for p, _ in batch for _ in range(k)]
            refs = [ref for _, ref in batch for _ in range(k)]
            with torch.no_grad():
                fz = logits_fn(torch, model, {n: v.detach() for n, v in over.items()})
                sampled = generate(torch, fz, prompts, SAMPLE_TOKENS, sample=True, gen=gen)
            reward = torch.tensor([1.0 if a[-1:] == [TL.EOS] and answer_text(a) == ref else -1.0
                                   for a, ref in zip(sampled, refs)])
            seqs = [(TL.encode(p) + a, len(TL.encode(p))) for p, a in zip(prompts, sampled)]
            idx, mask = pad_batch(torch, seqs)
            logp = f(idx[:, :-1]).log_softmax(-1)
            tok = logp.gather(-1, idx[:, 1:, None])[..., 0]
            seq_logp = (tok * mask).sum(1)
            # The paper's reward is +1/-1. A baseline subtracted from it keeps the expected gradient
            # and lowers its variance: "mean" = the batch's mean reward; "loo" = the mean reward of the
            # prompt's other samples (leave-one-out), so a prompt the model always or never gets
            # right adds no noise and the signal comes from prompts it sometimes gets right.
            if args.baseline == "loo" and k > 1:
                r = reward.view(-1, k)
                adv = (r - (r.sum(1, keepdim=True) - r) / (k - 1)).view(-1)
            elif args.baseline == "mean":
                adv = reward - reward.mean()
            else:
                adv = reward
            loss = -(adv * seq_logp).mean()
            if args.kl > 0:
                with torch.no_grad():
                    logp0 = base_f(idx[:, :-1]).log_softmax(-1)
                kl = (logp.exp() * (logp - logp0)).sum(-1)
                loss = loss + args.kl * kl[mask].mean()
            stat = float((reward > 0).float().mean())
            ema_r = stat if ema_r is None else 0.95 * ema_r + 0.05 * stat
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(zs, args.clip)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            with torch.no_grad():
                fv = logits_fn(torch, model, svf.dense(zs))
                v = accuracy(torch, fv, val, SAMPLE_TOKENS)
            history.append(dict(step=step, val=v))
            if v > best["val"]:
                best = dict(step=step, val=v, z=[z.detach().clone() for z in zs])
            drift = max(float((z.detach() - 1).abs().max()) for z in zs)
            print("%s step %d: %s %.4f, validation %.1f%% (best %.1f%% at %d), max |z-1| %.3f, %.0fs"
                  % (tag, step, "loss" if args.objective == "supervised" else "sample reward>0 (ema)",
                     stat if ema_r is None else ema_r, 100 * v, 100 * best["val"], best["step"], drift, time.time() - t0), flush=True)
    train_s = time.time() - t0
    zbest = best["z"]
    # Held-out accuracy of the chosen z in PyTorch (dense W', greedy, 24 tokens), reported only to
    # cross-check Gearbox's measurement: nothing above ever saw a held-out prompt.
    held = [r for r in TL.read_jsonl(os.path.join(args.models, "data", "heldout.jsonl")) if r["task"] == args.task]
    py_held = accuracy(torch, logits_fn(torch, model, svf.dense(zbest)), held, TL.MAX_ANSWER_TOKENS)
    py_base = accuracy(torch, base_f, held, TL.MAX_ANSWER_TOKENS)
    desc = ("Transformer2 SVF, %s objective%s; z init 1 on %s matrices; Adam lr %g, %d steps x batch %d fresh "
            "generated %s prompts (calibration/held-out excluded), grad clip %g; checkpoint step %d chosen on %d "
            "generated validation prompts (%.1f%%, base %.1f%%); seed %d; scripts/train-experts.py"
            % (args.objective, (" (reward +1/-1%s, KL weight %g)" % (", %d samples per prompt, baseline %s" % (args.samples, args.baseline), args.kl)) if args.objective == "reinforce" else
               " (cross-entropy on reference answers)", args.matrices, args.lr, args.steps, args.batch, args.task,
               args.clip, best["step"], len(val), 100 * best["val"], 100 * val0, seed))
    out = dict(format="gearbox-svf-z-v1", tier=args.tier, task=args.task, objective=args.objective,
               matrices=args.matrices, base_file=os.path.basename(model_path), base_sha256=sha256(model_path),
               training=desc, tensors=svf.names, z={n: [float(x) for x in z.tolist()] for n, z in zip(svf.names, zbest)},
               stats=dict(steps=args.steps, batch=args.batch, lr=args.lr, kl=args.kl, baseline=args.baseline, samples=args.samples, clip=args.clip,
                          chosen_step=best["step"], val_base=val0, val_best=best["val"], history=history,
                          train_seconds=round(train_s, 1), python_heldout=py_held, python_heldout_base=py_base))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f)
    print("%s: %.0fs; chosen step %d (validation %.1f%%, base %.1f%%); PyTorch held-out %s %.1f%% -> %.1f%%; %s"
          % (tag, train_s, best["step"], 100 * best["val"], 100 * val0, args.task, 100 * py_base, 100 * py_held, args.out), flush=True)


# ---------------------------------------------------------------------------------------------
# Report

def cmd_report(args):
    held = TL.read_jsonl(os.path.join(args.models, "data", "heldout.jsonl"))
    task_of = {r["id"]: r["task"] for r in held}
    correct = {}   # model label -> task -> [ok, n]
    for row in TL.read_jsonl(args.answers):
        c = correct.setdefault(row["tier"], {}).setdefault(task_of[row["id"]], [0, 0])
        c[0] += bool(row["correct"])
        c[1] += 1

    def pct(label, task):
        ok, n = correct[label][task]
        return 100.0 * ok / n

    meta = {}
    for path in args.z:
        with open(path) as f:
            j = json.load(f)
        meta[(j["tier"], j["task"], j["objective"])] = j
    tiers = [t for t in ("s", "m", "l") if any(k[0] == t for k in meta)]
    L = ["<!-- svf-experts: written by scripts/train-experts.sh; edit the script, not this section -->",
         "## SVF experts (Transformer² singular-value fine-tuning)\n",
         "One expert per tier and task family under `experts/`, listed in `ladder.yaml` (`experts:`); made by\n",
         "```\n%s\n```\n" % args.command,
         "Wall time: %s on %s. Each expert is a z vector per adapted matrix (%s: %s of every layer): "
         "W' = U diag(σ⊙z) Vᵀ · Σσ/Σ(σ⊙z), the SVD taken in float64 of the committed F32 weights. "
         "The committed experts are the paper's objective (REINFORCE); the supervised baseline is trained the same way and not committed.\n"
         % (args.wall, args.machine, next(iter(meta.values()))["matrices"],
            ", ".join(KINDS[next(iter(meta.values()))["matrices"]])),
         "Hyperparameters (every expert): %s.\n" % args.hyper,
         "### Held-out accuracy per task (greedy, exact match, %)\n",
         "Measured by Gearbox (`TierEvaluator` on `data/heldout.jsonl`, 150 rows per task) on dense copies of the tier with every "
         "adapted matrix replaced by W' (rebuilt by `SvfFactors.reconstruct` from Gearbox's own SVD sidecar and the expert file; "
         "F32, in build/, not committed; `gearbox svf eval`, which serves the experts through the engine, gives the same numbers). "
         "Base = the tier itself. In brackets: PyTorch's greedy accuracy on the same rows from its own W' (a cross-check).\n",
         "| tier | task | base | REINFORCE expert | supervised baseline | REINFORCE − base |",
         "|---|---|---|---|---|---|"]
    for t in tiers:
        for task in TL.TASKS:
            r, s = meta.get((t, task, "reinforce")), meta.get((t, task, "supervised"))
            if r is None:
                continue
            b = pct("tier-%s" % t, task)
            e = pct("%s-%s-reinforce" % (t, task), task)
            sv = ("%.1f (%.1f)" % (pct("%s-%s-supervised" % (t, task), task), 100 * s["stats"]["python_heldout"])) if s else "-"
            L.append("| %s | %s | %.1f | %.1f (%.1f) | %s | %+.1f |" % (t, task, b, e, 100 * r["stats"]["python_heldout"], sv, e - b))
    L.append("\n### Cross-task: each REINFORCE expert on every task's held-out rows (Gearbox, dense W', %)\n")
    L.append("Routing may pick the wrong expert; this is what that costs. Rows: the expert; columns: the rows' task.\n")
    L.append("| tier | expert | " + " | ".join(TL.TASKS) + " |")
    L.append("|---|---|" + "---|" * len(TL.TASKS))
    for t in tiers:
        L.append("| %s | (base) | " % t + " | ".join("%.1f" % pct("tier-%s" % t, k) for k in TL.TASKS) + " |")
        for task in TL.TASKS:
            if (t, task, "reinforce") in meta:
                L.append("| %s | %s | " % (t, task) + " | ".join("%.1f" % pct("%s-%s-reinforce" % (t, task), k) for k in TL.TASKS) + " |")
    L.append("\n### Training runs\n")
    L.append("| tier | task | objective | z values | steps | chosen step | validation base → chosen | train time |")
    L.append("|---|---|---|---|---|---|---|---|")
    for (t, task, obj), j in sorted(meta.items(), key=lambda kv: ("sml".index(kv[0][0]), TL.TASKS.index(kv[0][1]), kv[0][2])):
        st = j["stats"]
        L.append("| %s | %s | %s | %d | %d | %d | %.1f → %.1f | %.0f s |" % (
            t, task, obj, sum(len(v) for v in j["z"].values()), st["steps"], st["chosen_step"],
            100 * st["val_base"], 100 * st["val_best"], st["train_seconds"]))
    L.append("<!-- /svf-experts -->")
    section = "\n".join(L) + "\n"
    card = os.path.join(args.models, "MODEL_CARD.md")
    with open(card) as f:
        text = f.read()
    start, end = text.find("<!-- svf-experts"), text.find("<!-- /svf-experts -->")
    if start >= 0 and end >= 0:
        text = text[:start] + section + text[end + len("<!-- /svf-experts -->\n"):]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(card, "w") as f:
        f.write(text)
    print(section)


def cmd_ladder(args):
    """Adds (or replaces) `experts: {...}` in each listed tier's entry of the ladder file."""
    import re
    path = os.path.join(args.models, "ladder.yaml")
    with open(path) as f:
        text = f.read()
    for spec in args.tier:
        tier, tasks = spec.split("=")
        entry = "experts: {%s}, " % ", ".join("%s: experts/%s-%s.gguf" % (k, tier, k) for k in tasks.split(","))
        pat = re.compile(r"(\{name: %s, model: [^,]+, )(experts: \{[^}]*\}, )?" % re.escape(tier))
        text, n = pat.subn(lambda m: m.group(1) + entry, text)
        if n != 1:
            raise SystemExit("%s: no single entry for tier %s" % (path, tier))
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="models")
    ap.add_argument("--seed", type=int, default=4321)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--tier", choices=("s", "m", "l"), required=True)
    t.add_argument("--task", choices=TL.TASKS, required=True)
    t.add_argument("--objective", choices=("reinforce", "supervised"), default="reinforce")
    t.add_argument("--matrices", choices=sorted(KINDS), default="mlp")
    t.add_argument("--steps", type=int, default=300)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=5e-3)
    t.add_argument("--kl", type=float, default=0.1)
    t.add_argument("--baseline", choices=("none", "mean", "loo"), default="loo")
    t.add_argument("--samples", type=int, default=4, help="REINFORCE: answers sampled per prompt")
    t.add_argument("--clip", type=float, default=1.0)
    t.add_argument("--eval-every", type=int, default=25)
    t.add_argument("--val-per-level", type=int, default=24)
    t.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--answers", required=True)
    r.add_argument("--z", nargs="+", required=True)
    r.add_argument("--command", required=True)
    r.add_argument("--wall", required=True)
    r.add_argument("--machine", required=True)
    r.add_argument("--hyper", required=True)
    lad = sub.add_parser("ladder")
    lad.add_argument("--tier", action="append", required=True, help="TIER=task,task,...")
    args = ap.parse_args()
    dict(train=cmd_train, report=cmd_report, ladder=cmd_ladder)[args.cmd](args)


if __name__ == "__main__":
    main()
