#!/usr/bin/env python3
"""Renders a chat template with Python's jinja2 configured as transformers'
apply_chat_template configures it (a sandboxed environment with trim_blocks and
lstrip_blocks, loop controls, its tojson filter, raise_exception and strftime_now), to
produce the expected renderings in cases.json. A test-data tool (Debian's
python3-jinja2); the studio and its tests never run it.

    render_with_jinja2.py TEMPLATE.jinja CASES.json CONVERSATION [--gen] [--extra JSON]
        [--bos TEXT] [--eos TEXT]

prints the rendering as a JSON string."""
import argparse
import json
import sys
from datetime import datetime

from jinja2 import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def main():
    p = argparse.ArgumentParser()
    p.add_argument("template")
    p.add_argument("cases")
    p.add_argument("conversation")
    p.add_argument("--gen", action="store_true")
    p.add_argument("--extra", default="{}")
    p.add_argument("--bos", default="")
    p.add_argument("--eos", default="")
    a = p.parse_args()

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    with open(a.template, encoding="utf-8") as f:
        template = env.from_string(f.read())
    with open(a.cases, encoding="utf-8") as f:
        messages = json.load(f)["conversations"][a.conversation]
    variables = {"messages": messages, "tools": None, "documents": None, "add_generation_prompt": a.gen}
    if a.bos:
        variables["bos_token"] = a.bos
    if a.eos:
        variables["eos_token"] = a.eos
    variables.update(json.loads(a.extra))
    sys.stdout.write(json.dumps(template.render(**variables), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
