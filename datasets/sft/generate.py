#!/usr/bin/env python3
"""Generate the sample instruction-tuning (SFT) dataset of Fine-Tuning Studio.

What it is
==========
460 instruction rows in the Alpaca layout (instruction, input?, output), one JSON
object per line, on exactly the topics and answer conventions the embedded tiny base
model was pretrained on (see ../base_corpus/generate.py, whose tables and instruction
generators this script imports, so facts and formats agree):

  arithmetic  50 %  "Add 7 and 2." -> "9", "Subtract 4 from 9." -> "5",
                    "Multiply 3 by 5." -> "15", "What is 7 + 2?" -> "9", and the
                    same tasks as instruction + input ("Solve the arithmetic problem."
                    with input "7 + 2"); 60 % sums, 30 % differences, 10 % products;
                    operands 0-10 (products 0-5 x 0-5), a small table the tiny model
                    can learn, so held-out phrasings of it measure exact match
  capital     15 %  "Name the capital of France." -> "Paris.",
                    "What is the capital of France?" -> "The capital of France is Paris."
  instruction 35 %  the base corpus's other instruction kinds (opposites, plurals,
                    sorting, counting, yes/no, next in sequence, even/odd, ...)

Answers are computed, never typed.  Each row carries "split" ("train" for 400 rows,
"eval" for 60) and "tags" (its category, so exact-match accuracy can be measured on
the arithmetic eval rows alone).  No eval row repeats a train row's instruction and
input, so eval measures held-out instructions of the trained kinds.

Rendered with the "alpaca" prompt format each row becomes
"### Instruction:\\n<instruction>\\n[### Input:\\n<input>\\n]### Response:\\n<output>",
the base corpus's instruction documents, so SFT sharpens what the base already knows:
answer in the expected form and stop (EOS) instead of running on into a new document.

Determinism: only random.Random(SEED) through the base corpus's Gen, no set or dict
iteration order, so the output is byte-identical on every run.

Usage:  python3 datasets/sft/generate.py      (writes instructions.jsonl next to it)
"""

import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20240701
TRAIN_ROWS = 400
EVAL_ROWS = 60
SHARES = [("arithmetic", 0.50), ("capital", 0.15), ("instruction", 0.35)]


def load_base():
    path = os.path.join(HERE, "..", "base_corpus", "generate.py")
    spec = importlib.util.spec_from_file_location("base_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = load_base()


def arithmetic(g):
    """(instruction, input, output) of one arithmetic task."""
    op = g.weighted([(6, "+"), (3, "-"), (1, "*")])
    if op == "*":
        a, b = g.randint(0, 5), g.randint(0, 5)
        c = a * b
    else:
        a, b = g.randint(0, 10), g.randint(0, 10)
        if op == "-":
            a, b = max(a, b), min(a, b)
            c = a - b
        else:
            c = a + b
    form = g.weighted([(5, "verb"), (3, "question"), (2, "input")])
    if form == "input":
        return ("Solve the arithmetic problem.", "%d %s %d" % (a, op, b), str(c))
    if form == "question":
        return ("What is %d %s %d?" % (a, op, b), "", str(c))
    if op == "+":
        return ("Add %d and %d." % (a, b), "", str(c))
    if op == "-":
        return ("Subtract %d from %d." % (b, a), "", str(c))
    return ("Multiply %d by %d." % (a, b), "", str(c))


def capital(g):
    country, city = g.choice(base.COUNTRIES)[:2]
    if g.chance(0.5):
        return ("Name the capital of %s." % country, "", base.word_item(city))
    return ("What is the capital of %s?" % country, "", "The capital of %s is %s." % (country, city))


def instruction(g):
    while True:
        q, a = base.instr_pair(g)
        # Arithmetic and capitals have their own share; keep answers short.
        if not q.startswith(("Add ", "Subtract ", "Multiply ", "Name the capital", "Give the capital")) \
                and len(a) <= 60:
            return (q, "", a)


GENERATORS = {"arithmetic": arithmetic, "capital": capital, "instruction": instruction}


def draw(g, category, count, taken):
    """count new rows of a category whose (instruction, input) is not in taken."""
    rows = []
    while len(rows) < count:
        inst, inp, out = GENERATORS[category](g)
        key = (inst, inp)
        if key in taken:
            continue
        taken[key] = True
        rows.append((category, inst, inp, out))
    return rows


def build():
    g = base.Gen(SEED)
    taken = {}
    parts = {}
    for split, total in (("train", TRAIN_ROWS), ("eval", EVAL_ROWS)):
        rows = []
        for i, (category, share) in enumerate(SHARES):
            n = round(total * share) if i + 1 < len(SHARES) else total - len(rows)
            rows += draw(g, category, n, taken)
        g.shuffle(rows)
        parts[split] = rows
    return parts


def main():
    parts = build()
    lines = []
    for split in ("train", "eval"):
        for category, inst, inp, out in parts[split]:
            record = {"instruction": inst}
            if inp:
                record["input"] = inp
            record["output"] = out
            record["split"] = split
            record["tags"] = [category]
            lines.append(json.dumps(record, ensure_ascii=True))
    with open(os.path.join(HERE, "instructions.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    for split in ("train", "eval"):
        counts = {}
        for category, _, _, _ in parts[split]:
            counts[category] = counts.get(category, 0) + 1
        print("%-5s %3d rows: %s" % (split, len(parts[split]),
                                       ", ".join("%s %d" % (c, counts.get(c, 0)) for c, _ in SHARES)))


if __name__ == "__main__":
    main()
