#!/usr/bin/env python3
"""Writes the held-out workload (models/data/heldout.jsonl) as an OpenAI Batch input file: one line
per prompt, custom_id = the row's id, chat and completion bodies alternately, model auto, greedy
(temperature 0), max_tokens 24 (the default ladder's max_answer_tokens). The input of the Spark vs
`gearbox batch` check in scripts/test and of the benchmark in docs/spark.md.

  scripts/heldout-batch.py OUT.jsonl [N]      # N: only the first N prompts
"""
import json
import os
import sys

if len(sys.argv) not in (2, 3):
    sys.exit(__doc__)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
n = int(sys.argv[2]) if len(sys.argv) == 3 else None
with open(os.path.join(root, "models/data/heldout.jsonl")) as f:
    rows = [json.loads(l) for l in f if l.strip()]
rows = rows[:n] if n is not None else rows
with open(sys.argv[1], "w") as out:
    for i, r in enumerate(rows):
        body = {"model": "auto", "temperature": 0, "max_tokens": 24}
        if i % 2 == 0:
            url = "/v1/chat/completions"
            body["messages"] = [{"role": "user", "content": r["prompt"]}]
        else:
            url = "/v1/completions"
            body["prompt"] = r["prompt"]
        out.write(json.dumps({"custom_id": r["id"], "method": "POST", "url": url, "body": body}) + "\n")
