#!/usr/bin/env python3
"""Writes the evaluation suites shipped for the embedded base model (docs/evaluation.md).

Python 3, standard library only, seeded: running it again gives byte-identical files.
It imports ../sft/generate.py (and through it ../base_corpus/generate.py), so wording,
facts and answer conventions are those the base model was pretrained and the sample SFT
data was written with. No arithmetic item repeats the instruction and input of a row of
the SFT training split, so a suite measures what an adapter learned, not what it saw.

    python3 datasets/suites/generate.py
"""
import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20241207


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sft = load("sft_generate", os.path.join(HERE, "..", "sft", "generate.py"))
base = sft.base


def sft_train_keys():
    keys = set()
    with open(os.path.join(HERE, "..", "sft", "instructions.jsonl"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["split"] == "train":
                keys.add((row["instruction"], row.get("input", "")))
    return keys


def write(name, header, items):
    with open(os.path.join(HERE, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps({"suite": header}, ensure_ascii=False) + "\n")
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")


def arithmetic(g, train, count):
    """Generation: the SFT data's arithmetic tasks, answered as a bare number."""
    items, seen = [], set()
    while len(items) < count:
        inst, inp, out = sft.arithmetic(g)
        key = (inst, inp)
        if key in train or key in seen:
            continue
        seen.add(key)
        item = {"id": "arith-%03d" % len(items), "instruction": inst}
        if inp:
            item["input"] = inp
        item["output"] = out
        items.append(item)
    return items


def distractors(g, answer, count):
    pool = [n for n in range(max(0, answer - 4), answer + 5) if n != answer]
    g.shuffle(pool)
    return pool[:count]


def arithmetic_choice(g, count):
    """Multiple choice: a sum, difference or product and four numbers."""
    items, seen = [], set()
    while len(items) < count:
        op = g.weighted([(2, "+"), (1, "-"), (1, "*")])
        a, b = g.randint(0, 10), g.randint(0, 10)
        if op == "-":
            a, b = max(a, b), min(a, b)
        c = a + b if op == "+" else a - b if op == "-" else a * b
        key = (a, op, b)
        if key in seen:
            continue
        seen.add(key)
        choices = [c] + distractors(g, c, 3)
        g.shuffle(choices)
        items.append({"id": "choice-%03d" % len(items), "question": "What is %d %s %d?" % (a, op, b),
                      "choices": [str(x) for x in choices], "answer": choices.index(c)})
    return items


def capitals_choice(g):
    """Multiple choice: every country of the base corpus, its capital among four cities."""
    cities = [c[1] for c in base.COUNTRIES]
    items = []
    for i, (country, city) in enumerate((c[0], c[1]) for c in base.COUNTRIES):
        others = [x for x in cities if x != city]
        g.shuffle(others)
        choices = [city] + others[:3]
        g.shuffle(choices)
        items.append({"id": "capital-%02d" % i, "question": "What is the capital of %s?" % country,
                      "choices": choices, "answer": city})
    return items


def heldout_text(limit):
    """Perplexity: the held-out corpus's documents (split at blank lines)."""
    with open(os.path.join(HERE, "..", "base_corpus", "heldout.txt"), encoding="utf-8") as f:
        docs = [d.strip() for d in f.read().split("\n\n") if d.strip()]
    return [{"id": "doc-%03d" % i, "text": d} for i, d in enumerate(docs[:limit])]


def main():
    g = base.Gen(SEED)
    write("arithmetic", {
        "name": "arithmetic", "kind": "generation", "template": "alpaca", "max_new_tokens": 8,
        "verifier": "exact_match", "verifier_settings": {"extract": "first_line"},
        "description": "Sums, differences and products of small numbers in the sample SFT data's wording; "
                       "none is a training row of datasets/sft."}, arithmetic(g, sft_train_keys(), 120))
    write("arithmetic_choice", {
        "name": "arithmetic_choice", "kind": "multiple_choice", "template": "none",
        "description": "Which of four numbers is the sum, difference or product (log-likelihood, acc and "
                       "acc_norm)."}, arithmetic_choice(g, 100))
    write("capitals_choice", {
        "name": "capitals_choice", "kind": "multiple_choice", "template": "none",
        "description": "The capital of each country the base corpus names, among four of its cities."},
        capitals_choice(g))
    write("heldout_text", {
        "name": "heldout_text", "kind": "perplexity",
        "description": "The first 300 documents of the base corpus's held-out text."}, heldout_text(300))


if __name__ == "__main__":
    main()
