"""Talks to a running `gearbox serve` with the official openai Python package and prints one JSON
object (its last line) with what it saw; run by dev.gearbox.server.OpenAiPythonClientTest.

Usage: python client.py http://127.0.0.1:PORT/v1

Every case runs on its own: one the server rejects records {"error": ...} and the rest still run, so
the Java test can say which feature failed and why. Each case also records the request it sent
("sent": messages and tools exactly as sent) so the test can render the tier's own chat template
for them and check usage.prompt_tokens.
"""
import json
import sys
import traceback
from typing import Literal

import openai
import pydantic
from openai import OpenAI

base_url = sys.argv[1]
client = OpenAI(base_url=base_url, api_key="none", max_retries=0, timeout=120)
out = {"openai_version": openai.__version__}

SYSTEM = "You are a helpful assistant. Answer in one word."
USER = "What is the capital of France?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]

# Bounded shapes (enums, booleans) so a random-weight model under constrained decoding always closes them.
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "confident": {"type": "boolean"},
    },
    "required": ["answer", "confident"],
    "additionalProperties": False,
}
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Paris", "Tokyo"]},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}]


class Answer(pydantic.BaseModel):
    answer: Literal["yes", "no"]
    confident: bool


def case(name):
    def run(fn):
        try:
            out[name] = fn()
        except Exception as e:  # noqa: BLE001 - recorded for the Java test to report
            out[name] = {"error": f"{type(e).__name__}: {e}", "status": getattr(e, "status_code", None),
                         "trace": traceback.format_exc(limit=3)}
        return fn
    return run


def choice_summary(c):
    m = c.message
    s = {"index": c.index, "role": m.role, "content": m.content, "finish_reason": c.finish_reason}
    if m.tool_calls:
        s["tool_calls"] = [{"id": t.id, "type": t.type, "name": t.function.name, "arguments": t.function.arguments}
                           for t in m.tool_calls]
    return s


def usage(u):
    return u.model_dump() if u is not None else None


@case("models")
def _():
    return {"ids": [m.id for m in client.models.list().data]}


@case("chat")
def _():
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES, temperature=0)
    r = raw.parse()
    return {"sent": {"messages": MESSAGES}, "model": r.model, "object": r.object, "choices": [choice_summary(c) for c in r.choices],
            "usage": usage(r.usage), "header_tier": raw.headers.get("x-gearbox-tier")}


@case("chat_forced_l")
def _():
    r = client.chat.completions.create(model="l", messages=MESSAGES, temperature=0, max_tokens=8)
    return {"sent": {"messages": MESSAGES}, "choices": [choice_summary(c) for c in r.choices], "usage": usage(r.usage)}


@case("chat_stream")
def _():
    stream = client.chat.completions.create(model="l", messages=MESSAGES, temperature=0, max_tokens=8, stream=True,
                                            stream_options={"include_usage": True})
    content, finish, u, chunks, roles = "", None, None, 0, []
    for chunk in stream:
        chunks += 1
        if chunk.usage is not None:
            u = usage(chunk.usage)
        for c in chunk.choices:
            if c.delta.role:
                roles.append(c.delta.role)
            if c.delta.content:
                content += c.delta.content
            if c.finish_reason:
                finish = c.finish_reason
    return {"sent": {"messages": MESSAGES}, "content": content, "finish_reason": finish, "usage": u, "chunks": chunks, "roles": roles}


PROMPT = "The capital of France is"


@case("completion")
def _():
    r = client.completions.create(model="l", prompt=PROMPT, temperature=0, max_tokens=8)
    return {"sent": {"prompt": PROMPT}, "text": r.choices[0].text, "finish_reason": r.choices[0].finish_reason, "usage": usage(r.usage)}


@case("completion_stream")
def _():
    text, finish, chunks = "", None, 0
    for chunk in client.completions.create(model="l", prompt=PROMPT, temperature=0, max_tokens=8, stream=True):
        chunks += 1
        for c in chunk.choices:
            text += c.text or ""
            if c.finish_reason:
                finish = c.finish_reason
    return {"text": text, "finish_reason": finish, "chunks": chunks}


@case("logprobs")
def _():
    r = client.chat.completions.create(model="l", messages=MESSAGES, temperature=0, max_tokens=6, logprobs=True, top_logprobs=2)
    c = r.choices[0]
    toks = c.logprobs.content if c.logprobs is not None else None
    return {"content": c.message.content, "usage": usage(r.usage),
            "tokens": None if toks is None else [{"token": t.token, "logprob": t.logprob, "bytes": t.bytes,
                                                   "top": [{"token": x.token, "logprob": x.logprob} for x in t.top_logprobs]}
                                                  for t in toks]}


JSON_MESSAGES = [{"role": "system", "content": "Reply in JSON."}, {"role": "user", "content": "Is Paris in France?"}]


@case("json_object")
def _():
    r = client.chat.completions.create(model="l", messages=JSON_MESSAGES, temperature=0, max_tokens=64,
                                       response_format={"type": "json_object"})
    return {"sent": {"messages": JSON_MESSAGES}, "choices": [choice_summary(c) for c in r.choices], "usage": usage(r.usage)}


@case("json_schema_dict")
def _():
    r = client.chat.completions.create(model="l", messages=JSON_MESSAGES, temperature=0, max_tokens=64,
                                       response_format={"type": "json_schema",
                                                        "json_schema": {"name": "answer", "strict": True, "schema": ANSWER_SCHEMA}})
    return {"schema": ANSWER_SCHEMA, "choices": [choice_summary(c) for c in r.choices], "usage": usage(r.usage)}


@case("json_schema_parse")
def _():
    # The SDK turns the pydantic model into a strict json_schema response_format and parses the answer back.
    r = client.chat.completions.parse(model="l", messages=JSON_MESSAGES, temperature=0, max_tokens=64,
                                      response_format=Answer)
    c = r.choices[0]
    parsed = c.message.parsed
    return {"content": c.message.content, "finish_reason": c.finish_reason,
            "parsed": parsed.model_dump() if parsed is not None else None, "refusal": c.message.refusal}


TOOL_MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


@case("tools_required")
def _():
    r = client.chat.completions.create(model="l", messages=TOOL_MESSAGES, tools=TOOLS, tool_choice="required", temperature=0,
                                       max_tokens=64)
    return {"sent": {"messages": TOOL_MESSAGES, "tools": TOOLS}, "choices": [choice_summary(c) for c in r.choices],
            "usage": usage(r.usage)}


@case("tools_stream")
def _():
    # Agents stream tool calls: the name comes first, the arguments in pieces, joined by index.
    stream = client.chat.completions.create(model="l", messages=TOOL_MESSAGES, tools=TOOLS, tool_choice="required", temperature=0,
                                            max_tokens=64, stream=True)
    calls, finish = {}, None
    for chunk in stream:
        for c in chunk.choices:
            for t in c.delta.tool_calls or []:
                call = calls.setdefault(t.index, {"id": None, "name": "", "arguments": ""})
                if t.id:
                    call["id"] = t.id
                if t.function is not None:
                    call["name"] += t.function.name or ""
                    call["arguments"] += t.function.arguments or ""
            if c.finish_reason:
                finish = c.finish_reason
    return {"tool_calls": [calls[i] for i in sorted(calls)], "finish_reason": finish}


@case("tools_round_trip")
def _():
    # A second turn with the assistant's tool call and the tool's result, as an agent loop sends it.
    msgs = TOOL_MESSAGES + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\", \"unit\": \"c\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 21}"},
    ]
    r = client.chat.completions.create(model="l", messages=msgs, tools=TOOLS, temperature=0, max_tokens=8)
    return {"sent": {"messages": msgs, "tools": TOOLS}, "choices": [choice_summary(c) for c in r.choices], "usage": usage(r.usage)}


@case("n2")
def _():
    r = client.chat.completions.create(model="l", messages=MESSAGES, temperature=1.0, seed=5, max_tokens=6, n=2)
    return {"choices": [choice_summary(c) for c in r.choices], "usage": usage(r.usage)}


@case("seed")
def _():
    def once(seed):
        r = client.chat.completions.create(model="l", messages=MESSAGES, temperature=1.0, top_p=0.95, seed=seed, max_tokens=12)
        return r.choices[0].message.content
    return {"a": once(42), "b": once(42), "other": once(43)}


@case("unknown_model")
def _():
    try:
        client.chat.completions.create(model="no-such-tier", messages=MESSAGES)
        return {"status": None}
    except openai.NotFoundError as e:
        return {"status": e.status_code, "code": e.code, "is_not_found": True}


print(json.dumps(out))
