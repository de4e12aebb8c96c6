#!/usr/bin/env python3
"""The knowledge base of the efficacy tests: facts in prose, tasks as questions.

Writes, next to this file:
  train.txt, heldout.txt   pretraining corpus (make-base --corpus): every fact of the
                           tables below stated in several declarative phrasings, in
                           short documents. No question, instruction or answer format.
  sft.jsonl                instruction rows (Alpaca layout) asking for those facts
  preference.jsonl         pairs whose answers differ only in correctness: the same
                           form and length, the rejected one a wrong number or city
  verifiable.jsonl         the prompts with their reference answers (RLVR, suites)

The facts are split once, by fact, into train (70 %) and eval (30 %): an eval row
asks for a fact no training row of any file asks for, in any phrasing. The base
model read every fact while pretraining, so what a held-out row measures is whether
fine-tuning taught the model to answer with what it already knows, not whether it
memorized the training rows. A base model without fine-tuning does not answer in
the task's form at all.

Deterministic: fixed seeds, random.Random only. The tables of countries come from
../base_corpus/generate.py.
"""
import importlib.util
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261207


def load_base():
    path = os.path.join(HERE, "..", "base_corpus", "generate.py")
    spec = importlib.util.spec_from_file_location("base_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = load_base()

# ---------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------


def arithmetic_facts():
    facts = []
    for a in range(10):
        for b in range(10):
            facts.append(("sum", a, b, a + b))
    for a in range(10):
        for b in range(a + 1):
            facts.append(("difference", a, b, a - b))
    for a in range(2, 6):
        for b in range(2, 6):
            facts.append(("product", a, b, a * b))
    return facts


def capital_facts():
    return [("capital", country, city) for country, city, *_ in base.COUNTRIES]


def statements(fact):
    """Declarative phrasings of one fact (the corpus states each fact in all of them)."""
    if fact[0] == "capital":
        _, country, city = fact
        return ["The capital of %s is %s." % (country, city), "%s is the capital of %s." % (city, country),
                "The capital city of %s is %s." % (country, city)]
    kind, a, b, c = fact
    if kind == "sum":
        return ["%d + %d = %d" % (a, b, c), "%d plus %d is %d." % (a, b, c), "The sum of %d and %d is %d." % (a, b, c)]
    if kind == "difference":
        return ["%d - %d = %d" % (a, b, c), "%d minus %d is %d." % (a, b, c),
                "The difference of %d and %d is %d." % (a, b, c)]
    return ["%d * %d = %d" % (a, b, c), "%d times %d is %d." % (a, b, c),
            "The product of %d and %d is %d." % (a, b, c)]


def prompts(fact):
    """Question phrasings of one fact with the answer each expects."""
    if fact[0] == "capital":
        _, country, city = fact
        return [("What is the capital of %s?" % country, city + "."),
                ("Name the capital of %s." % country, city + ".")]
    kind, a, b, c = fact
    sign = {"sum": "+", "difference": "-", "product": "*"}[kind]
    verb = {"sum": "Add %d and %d." % (a, b), "difference": "Subtract %d from %d." % (b, a),
            "product": "Multiply %d by %d." % (a, b)}[kind]
    return [("What is %d %s %d?" % (a, sign, b), str(c)), (verb, str(c))]


def wrong(g, fact, cities):
    """A wrong answer of the same form: a number off by 1-3 (never negative), or another capital."""
    if fact[0] == "capital":
        return g.choice([c for c in cities if c != fact[2]]) + "."
    c = fact[3]
    d = g.choice([-3, -2, -1, 1, 2, 3])
    return str(c + d if c + d >= 0 else c - d)


# ---------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------


def corpus(g, facts, asked, target_bytes):
    """Documents of 3-6 statements; one in four instead 1-3 questions with their
    answers, about the facts in `asked` only."""
    docs, size = [], 0
    while size < target_bytes:
        lines = []
        if g.random() < 0.25:
            for _ in range(g.randint(1, 3)):
                prompt, answer = g.choice(prompts(g.choice(asked)))
                lines += ["Question: " + prompt, "Answer: " + answer]
        else:
            for _ in range(g.randint(3, 6)):
                lines.append(g.choice(statements(g.choice(facts))))
        doc = "\n".join(lines)
        docs.append(doc)
        size += len(doc) + 2
    return "\n\n".join(docs) + "\n"


def main():
    g = random.Random(SEED)
    facts = arithmetic_facts() + capital_facts()
    order = list(range(len(facts)))
    g.shuffle(order)
    held = set(order[: int(0.3 * len(facts))])
    cities = [f[2] for f in capital_facts()]

    asked = [f for i, f in enumerate(facts) if i not in held]
    with open(os.path.join(HERE, "train.txt"), "w") as f:
        f.write(corpus(random.Random(SEED + 1), facts, asked, 400_000))
    with open(os.path.join(HERE, "heldout.txt"), "w") as f:
        f.write(corpus(random.Random(SEED + 2), facts, asked, 20_000))

    sft, pref, verifiable = [], [], []
    for i, fact in enumerate(facts):
        split = "eval" if i in held else "train"
        tags = ["arithmetic", fact[0]] if fact[0] != "capital" else ["capital"]
        for prompt, answer in prompts(fact):
            sft.append({"instruction": prompt, "output": answer, "split": split, "tags": tags})
            pref.append({"prompt": prompt, "chosen": answer, "rejected": wrong(g, fact, cities),
                         "label_source": "imported", "split": split, "tags": tags})
            verifiable.append({"prompt": prompt, "reference": answer, "verifier": "exact_match",
                               "verifier_settings": {"extract": "first_line"}, "split": split, "tags": tags})
    for name, rows in (("sft.jsonl", sft), ("preference.jsonl", pref), ("verifiable.jsonl", verifiable)):
        g.shuffle(rows)
        with open(os.path.join(HERE, name), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    print("facts: %d (%d held out); rows per file: %d" % (len(facts), len(held), len(sft)))


if __name__ == "__main__":
    main()
