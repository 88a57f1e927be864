#!/usr/bin/env python3
"""Compares two OpenAI batch outputs (a file, or a folder of Spark part files) line by line, keyed by
custom_id (a line without one by its input line number); exit 1 on any difference.

  scripts/compare-batch-outputs.py GEARBOX_BATCH_OUTPUT.jsonl SPARK_OUTPUT_DIR

Not compared, since they differ between any two runs: the random ids (id, response.request_id,
response.body.id), created, and the measured times (gearbox.gatekeeper_ms, each hop's time_ms);
the gatekeeper's probabilities (router and task head) are compared to within 1e-6 (its float sums come out a few ulps
apart when other prompts share its pass; 1e-8 seen). Everything else must be equal, except that where the prefix cache
held a different part of the prompt (usage.prompt_tokens_details.cached_tokens differs, since other
requests came before it), the prefill FLOPs and cost it saved (flops, cost) may differ too.
Same rules as spark/src/test/java/dev/gearbox/spark/BatchOutputLines.java.
"""
import json
import os
import sys


def lines(path):
    if os.path.isdir(path):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.startswith("part-"))
    else:
        files = [path]
    for f in files:
        with open(f) as fh:
            for l in fh:
                if l.strip():
                    yield l


probs_of = {}


def key_of(n):
    return ("id:" + n["custom_id"]) if isinstance(n.get("custom_id"), str) else "line:%s" % n["error"]["line"]


def normalized(path, cache_dependent):
    out = {}
    probs = probs_of.setdefault(path, {})
    for l in lines(path):
        n = json.loads(l)
        n.pop("id", None)
        resp = n.get("response")
        if isinstance(resp, dict):
            resp.pop("request_id", None)
            body = resp.get("body") or {}
            body.pop("id", None)
            body.pop("created", None)
            g = body.get("gearbox")
            if isinstance(g, dict):
                g.pop("gatekeeper_ms", None)
                for h in g.get("hops", []):
                    h.pop("time_ms", None)
                for field in ("probabilities", "task_probabilities"):   # the router's and the task head's
                    if isinstance(g.get(field), dict):
                        probs[(key_of(n), field)] = g.pop(field)
                        g[field] = sorted(probs[(key_of(n), field)])
                if not cache_dependent:
                    for o in [g] + g.get("hops", []):
                        o.pop("flops", None)
                        o.pop("cost", None)
                    body.get("usage", {}).get("prompt_tokens_details", {}).pop("cached_tokens", None)
        key = key_of(n)
        if key in out:
            sys.exit("compare: %s has two output lines for %s" % (path, key))
        out[key] = json.dumps(n, sort_keys=True)
    return out


def cached(s):
    return json.loads(s).get("response", {}).get("body", {}).get("usage", {}).get("prompt_tokens_details", {}).get("cached_tokens")


a, b = sys.argv[1], sys.argv[2]
ea, eb = normalized(a, True), normalized(b, True)
la, lb = normalized(a, False), normalized(b, False)
bad = sorted(set(ea) ^ set(eb))
exact = cache_only = 0
def close(k):
    for field in ("probabilities", "task_probabilities"):
        pa, pb = probs_of[a].get((k, field), {}), probs_of[b].get((k, field), {})
        if pa.keys() != pb.keys() or any(abs(pa[t] - pb[t]) > 1e-6 for t in pa):
            return False
    return True


for k in sorted(set(ea) & set(eb)):
    if not close(k):
        bad.append(k)
        print("compare: %s: probabilities differ: %s vs %s" % (k, {f: probs_of[a].get((k, f)) for f in ("probabilities", "task_probabilities")},
                                                             {f: probs_of[b].get((k, f)) for f in ("probabilities", "task_probabilities")}))
    elif ea[k] == eb[k]:
        exact += 1
    elif la[k] == lb[k] and cached(ea[k]) != cached(eb[k]):
        cache_only += 1
    else:
        bad.append(k)
        if len(bad) <= 3:
            print("compare: %s differs\n  %s\n  %s" % (k, ea[k], eb[k]))
print("compare: %d lines in %s, %d in %s: %d equal, %d differing only in what the prefix cache saved, %d different or missing"
      % (len(ea), a, len(eb), b, exact, cache_only, len(bad)))
sys.exit(1 if bad or not ea else 0)
