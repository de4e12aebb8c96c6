#!/usr/bin/env python3
"""Generate the sample alignment datasets of Fine-Tuning Studio.

What it is
==========
Four JSON Lines files for the alignment objectives, on exactly the topics, wording and
answer conventions of the embedded tiny base model and of the SFT sample (this script
imports ../base_corpus/generate.py and ../sft/generate.py and draws its prompts with
their generators, so facts and formats agree):

  preference.jsonl    prompt, chosen, rejected        DPO, IPO, cDPO, SimPO, ORPO, reward model
                      chosen is the correct answer, rejected a clearly wrong one:
                      arithmetic off by 1-3, a wrong capital, or the answer of another
                      instruction of the same kind ("Cold." -> "Sad.")
  reward_pairs.jsonl  prompt, chosen, rejected        reward model (Bradley-Terry)
                      rejected is degenerate: the same word repeated, shouting in
                      capitals, a non-answer ("I don't know."), or an answer to a
                      different kind of question; separable by surface features
  unpaired.jsonl      prompt, completion, desirable   KTO
                      one completion per prompt, correct (desirable) or wrong as in
                      preference.jsonl, about half each
  verifiable.jsonl    prompt, reference, verifier,    GRPO / RLVR
                      verifier_settings               arithmetic with operands 0-10
                      (products 0-5 x 0-5), reference the bare number, verifier
                      "numeric" or "exact_match" on the answer's first line

Prompts are bare instruction texts, rendered by the trainer with the run's prompt
format (alpaca: "### Instruction:\\n<prompt>\\n### Response:\\n"), so they never use the
SFT rows' separate "input" field.  Shares follow the SFT sample: arithmetic 50 %
(sums 60 %, differences 30 %, products 10 %), capital 15 %, instruction 35 %; the
verifiable file is arithmetic only.  Every answer is computed, none typed.

Each row carries "split" ("train"/"eval") and "tags" (its category, and for pairs
the kind of rejected answer).  Within a file no prompt repeats, so eval prompts are
held out from train.  verifiable.jsonl's eval prompts also avoid every prompt of the
SFT sample's train rows; its eval rows are drawn first, because 300 distinct train
prompts use most of the small operand table.

Determinism: only random.Random(seed) through the base corpus's Gen, no set or dict
iteration order, so the output is byte-identical on every run.

Usage:  python3 datasets/align/generate.py      (writes the four files next to it)
"""

import importlib.util
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SHARES = [("arithmetic", 0.50), ("capital", 0.15), ("instruction", 0.35)]
FILES = [  # name, seed, train rows, eval rows
    ("preference", 20240711, 400, 60),
    ("reward_pairs", 20240712, 300, 60),
    ("unpaired", 20240713, 400, 60),
    ("verifiable", 20240714, 300, 60),
]


def load(name, relative):
    path = os.path.join(HERE, "..", relative, "generate.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


base = load("base_corpus", "base_corpus")
sft = load("sft_generate", "sft")

# ---------------------------------------------------------------------------------
# Prompts: (category, prompt, correct answer), in the SFT sample's wording
# ---------------------------------------------------------------------------------


def arithmetic(g):
    while True:
        inst, inp, out = sft.arithmetic(g)
        if not inp:  # a preference prompt is one text; the SFT "input" form has two
            return ("arithmetic", inst, out)


def capital(g):
    inst, _, out = sft.capital(g)
    return ("capital", inst, out)


def instruction(g):
    inst, _, out = sft.instruction(g)
    return ("instruction", inst, out)


TASKS = {"arithmetic": arithmetic, "capital": capital, "instruction": instruction}


def operation(prompt):
    """'sum', 'difference' or 'product' of an arithmetic prompt."""
    if prompt.startswith("Add ") or " + " in prompt:
        return "sum"
    if prompt.startswith("Subtract ") or " - " in prompt:
        return "difference"
    return "product"


# The base corpus's instruction kinds, told apart by how the prompt starts.
KINDS = [("name", r"Name an? "), ("list", r"List "), ("opposite", r'(Give|Write|What is) the opposite'),
         ("opp_sentence", r"Rewrite the sentence with the opposite"), ("sort_num", r"Sort these numbers"),
         ("sort_words", r"Sort these words"), ("count_letters", r"How many letters"),
         ("count_words", r"Count the words"), ("count_items", r"Count the items"),
         ("capitals", r"Rewrite this sentence in capital"), ("complete", r"Complete the sentence"),
         ("yesno", r"Answer yes or no"), ("plural", r"Write the plural"), ("next", r"What comes next"),
         ("bigger", r"Which number is"), ("spell", r"Spell the word"), ("sentence_about", r"Write a sentence"),
         ("json", r".* as JSON"), ("first_letter", r"What is the first letter"), ("reverse", r"Reverse the order"),
         ("even_odd", r"Is \d+ even or odd")]


def kind_of(prompt):
    for kind, pattern in KINDS:
        if re.match(pattern, prompt):
            return kind
    raise ValueError("unknown instruction kind: %r" % prompt)


def categories(answer):
    """The word categories ('colour', 'fruit' ...) the words of an answer belong to."""
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", answer)]
    return [c for c in base.CATEGORY_WORDS if any(w.lower() in words for w in base.CATEGORY_WORDS[c])]


# ---------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------


def wrong_number(g, n):
    d = g.choice([-3, -2, -1, 1, 2, 3])
    return n + d if n + d >= 0 else n - d


def wrong_answer(g, category, prompt, answer):
    """A clearly wrong answer in the same form as the correct one."""
    if category == "arithmetic":
        return str(wrong_number(g, int(answer)))
    if category == "capital":
        city = next(c[1] for c in base.COUNTRIES if answer.endswith(c[1] + ".") and c[0] in prompt)
        other = g.choice([c[1] for c in base.COUNTRIES if c[1] != city])
        return answer[:len(answer) - len(city) - 1] + other + "."
    # Another instruction of the same kind whose answer differs (for name and list
    # prompts also in category: "Orange." is no wrong answer to "Name a colour.").
    kind = kind_of(prompt)
    while True:
        _, other_prompt, other = instruction(g)
        if kind_of(other_prompt) != kind or other_prompt == prompt or other == answer:
            continue
        if kind in ("name", "list") and [c for c in categories(other) if c in categories(answer)]:
            continue
        return other


NON_ANSWERS = ["I don't know.", "I am not sure.", "No idea.", "...", "Hmm.", "I cannot answer that."]


def degenerate(g, category, prompt, answer):
    """(kind, text) of an answer a reward model can tell from surface features."""
    has_letters = re.search(r"[A-Za-z]", answer) is not None
    kind = g.weighted([(3, "repeated"), (2.5 if has_letters else 0, "shouting"), (2.5, "non_answer"),
                       (1.5, "unrelated")])
    if kind == "repeated":
        words = re.findall(r"[A-Za-z0-9]+", answer)
        return kind, " ".join([g.choice(words)] * g.randint(4, 8))
    if kind == "shouting":
        return kind, answer.rstrip(".").upper() + "!!!"
    if kind == "non_answer":
        return kind, g.choice(NON_ANSWERS)
    # Another category's answer in the other form: a number for words, words for a number.
    return kind, arithmetic(g)[2] if has_letters else capital(g)[2]


# ---------------------------------------------------------------------------------
# Rows per file
# ---------------------------------------------------------------------------------


def preference_row(g, task):
    category, prompt, answer = task
    rejected = wrong_answer(g, category, prompt, answer)
    return {"prompt": prompt, "chosen": answer, "rejected": rejected, "label_source": "imported"}, [category]


def reward_pair_row(g, task):
    category, prompt, answer = task
    kind, rejected = degenerate(g, category, prompt, answer)
    return {"prompt": prompt, "chosen": answer, "rejected": rejected, "label_source": "imported"}, [category, kind]


def unpaired_row(g, task):
    category, prompt, answer = task
    desirable = g.chance(0.5)
    completion = answer if desirable else wrong_answer(g, category, prompt, answer)
    return {"prompt": prompt, "completion": completion, "desirable": desirable}, [category]


def verifiable_row(g, task):
    _, prompt, answer = task
    if g.chance(0.75):
        verifier = "numeric"
    else:
        verifier = "exact_match"
    return ({"prompt": prompt, "reference": answer, "verifier": verifier,
             "verifier_settings": {"extract": "first_line"}}, ["arithmetic", operation(prompt)])


def draw(g, category, count, taken, make_row):
    rows = []
    while len(rows) < count:
        task = TASKS[category](g)
        if task[1] in taken:
            continue
        taken[task[1]] = True
        rows.append(make_row(g, task))
    return rows


def split_rows(g, total, taken, make_row, shares):
    rows = []
    for i, (category, share) in enumerate(shares):
        n = round(total * share) if i + 1 < len(shares) else total - len(rows)
        rows += draw(g, category, n, taken, make_row)
    g.shuffle(rows)
    return rows


def sft_train_prompts():
    taken = {}
    with open(os.path.join(HERE, "..", "sft", "instructions.jsonl"), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["split"] == "train" and "input" not in row:
                taken[row["instruction"]] = True
    return taken


def build(name, seed, train_rows, eval_rows):
    g = base.Gen(seed)
    make_row = {"preference": preference_row, "reward_pairs": reward_pair_row,
                "unpaired": unpaired_row, "verifiable": verifiable_row}[name]
    if name == "verifiable":
        shares = [("arithmetic", 1.0)]
        taken = sft_train_prompts()
        evals = split_rows(g, eval_rows, taken, make_row, shares)
        taken = {row["prompt"]: True for row, _ in evals}
        return {"train": split_rows(g, train_rows, taken, make_row, shares), "eval": evals}
    taken = {}
    train = split_rows(g, train_rows, taken, make_row, SHARES)
    return {"train": train, "eval": split_rows(g, eval_rows, taken, make_row, SHARES)}


NUMBER_PROMPT = re.compile(r"(Add|Subtract|Multiply|What is \d|How many|Count|What comes next|Which number|Sort these num)")


def surface_rule_accuracy(rows):
    """Share of pairs (ties half) where a rule that sees only surface features scores
    chosen above rejected: repetition, "!!!", a stock non-answer, or digits where the
    prompt asks for words (and the reverse) each cost a point."""
    def score(prompt, text):
        words = text.split()
        bad = (len(words) >= 4 and len(set(words)) == 1) or text.endswith("!!!") or text in NON_ANSWERS
        wants_number = NUMBER_PROMPT.match(prompt) is not None
        is_number = re.fullmatch(r"[\d, ]+", text) is not None
        return -int(bad) - int(wants_number != is_number)
    wins = 0.0
    for row, _ in rows:
        chosen, rejected = score(row["prompt"], row["chosen"]), score(row["prompt"], row["rejected"])
        wins += 1.0 if chosen > rejected else 0.5 if chosen == rejected else 0.0
    return wins / len(rows)


def main():
    for name, seed, train_rows, eval_rows in FILES:
        parts = build(name, seed, train_rows, eval_rows)
        lines = []
        for split in ("train", "eval"):
            for row, tags in parts[split]:
                record = dict(row)
                record["split"] = split
                record["tags"] = tags
                lines.append(json.dumps(record, ensure_ascii=True))
        with open(os.path.join(HERE, name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        for split in ("train", "eval"):
            counts = {}
            for _, tags in parts[split]:
                for t in tags:
                    counts[t] = counts.get(t, 0) + 1
            print("%-12s %-5s %3d rows: %s" % (name, split, len(parts[split]),
                                              ", ".join("%s %d" % (t, counts[t]) for t in sorted(counts))))
        if name == "reward_pairs":
            print("reward_pairs eval: a surface rule prefers chosen in %.0f %% of pairs"
                  % (100 * surface_rule_accuracy(parts["eval"])))


if __name__ == "__main__":
    main()
