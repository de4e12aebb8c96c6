#!/usr/bin/env python3
"""Writes the small tokenizer.json files of tests/data/tokenizers/ and their expected ids.

Offline, without Hugging Face's `tokenizers`: the expected ids come from a reference
written here in Python, separately from the C++ code under test, after the published
algorithms:
  * byte alphabet: bytes_to_unicode() of OpenAI's GPT-2 encoder.py, copied as published;
  * pre-tokenization: the published split patterns run with the `regex` module (the
    engine OpenAI's encoder.py uses), the Metaspace / Digits / ByteLevel rules of
    huggingface/tokenizers (pre_tokenizers/*.rs);
  * merges: the rank-ordered merge loop of tokenizers/src/models/bpe/word.rs, and, for
    every trained vocabulary, cross-checked against the different published loop of
    OpenAI's encoder.py (Encoder.bpe), which must agree when every merge only joins
    tokens made by earlier merges;
  * added tokens: leftmost-longest matching (tokenizer/added_vocabulary.rs).
Run from anywhere: python3 make_test_tokenizers.py  (needs the `regex` module).
The vocabularies are learned from datasets/base_corpus/train.txt (first 300 kB) plus the
test sentences, so that merges interact as in real files; see README.md.
"""
import heapq
import json
import os
import unicodedata
from collections import Counter

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                  r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN2_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                 r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")
META = "\u2581"  # ▁

# The broad test set: languages, whitespace runs, digits, emoji, code, contractions,
# special tokens written inside text.
TEXTS = [
    "Hello world",
    "hello world",
    " Hello  world ",
    "I'm sure you'll see they've done it, haven't they? She'd said 'yes'.",
    "DON'T SHOUT, I'LL HEAR YOU'RE HERE",
    "Café naïve résumé, déjà vu à São Paulo, Zürich and Kraków.",
    "Cafe\u0301 and re\u0301sume\u0301 written with combining accents.",
    "日本語のテキストと中文文本。한국어 텍스트도 있습니다.",
    "Привет, мир! Съешь же ещё этих мягких французских булок.",
    "Γειά σου Κόσμε. مرحبا بالعالم",
    "a  b   c\n\n\nd \n e\t\tf   \n\n  g",
    "trailing spaces   ",
    "   leading spaces",
    "\n",
    " ",
    "   ",
    "12345678 and 3.14159, 1,000,000; 2024-05-09 at 07:35.",
    "Numbers: 7 42 999 1000 65536",
    "Emoji 🙂🚀👍🏽 and 👨‍👩‍👧 family ❤️",
    "def f(x):\n    return x**2 + 1  # square\n\nfor i in range(10):\n\tprint(f\"{i}: {f(i)}\")",
    "if (a != b && c <= 0) { return -1; } // done",
    "snake_case camelCase kebab-case CONSTANT_CASE https://example.com/a?b=c&d=e",
    "!!! ??? ... --- ***",
    "Hello<|eot_id|>world",
    "The <|eot_id marker without its bar stays text.",
    "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] Say hi [/INST] Hi!</s>",
    "[INST]Hi[/INST]Hello</s>",
    "Ends with special <|endoftext|>",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 mathematical letters and abcабв123 mixed",
    "Lucy wakes up at six o'clock. She eats an egg for breakfast.",
    "Question: What is 29 + 4?\nAnswer: 33",
    "",
]


def bytes_to_unicode():
    """OpenAI GPT-2 encoder.py, as published."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}


def byte_map(text):
    return "".join(BYTE_ENCODER[b] for b in text.encode("utf-8"))


# ---------------------------------------------------------------- BPE merge loops

def hf_merge(symbols, merge_map):
    """tokenizers/src/models/bpe/word.rs Word::merge_all, without dropout.
    symbols: list of ids; merge_map: (a, b) -> (rank, new_id)."""
    n = len(symbols)
    ids = list(symbols)
    prev = [i - 1 for i in range(n)]
    nxt = [i + 1 if i + 1 < n else -1 for i in range(n)]
    alive = [True] * n
    heap = []
    for i in range(n - 1):
        m = merge_map.get((ids[i], ids[i + 1]))
        if m:
            heap.append((m[0], i, m[1]))
    heapq.heapify(heap)
    while heap:
        rank, pos, new_id = heapq.heappop(heap)
        if not alive[pos] or nxt[pos] == -1:
            continue
        right = nxt[pos]
        m = merge_map.get((ids[pos], ids[right]))
        if m is None or m[1] != new_id:
            continue
        ids[pos] = new_id
        alive[right] = False
        nxt[pos] = nxt[right]
        if nxt[right] != -1:
            prev[nxt[right]] = pos
        if prev[pos] >= 0:
            m = merge_map.get((ids[prev[pos]], ids[pos]))
            if m:
                heapq.heappush(heap, (m[0], prev[pos], m[1]))
        if nxt[pos] != -1:
            m = merge_map.get((ids[pos], ids[nxt[pos]]))
            if m:
                heapq.heappush(heap, (m[0], pos, m[1]))
    return [ids[i] for i in range(n) if alive[i]]


def openai_bpe(token, bpe_ranks):
    """OpenAI GPT-2 encoder.py Encoder.bpe (without its cache), as published; returns pieces."""
    word = tuple(token)
    pairs = set(zip(word, word[1:]))
    if not pairs:
        return list(word)
    while True:
        bigram = min(pairs, key=lambda pair: bpe_ranks.get(pair, float("inf")))
        if bigram not in bpe_ranks:
            break
        first, second = bigram
        new_word = []
        i = 0
        while i < len(word):
            try:
                j = word.index(first, i)
                new_word.extend(word[i:j])
                i = j
            except ValueError:
                new_word.extend(word[i:])
                break
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
        if len(word) == 1:
            break
        pairs = set(zip(word, word[1:]))
    return list(word)


def merged_with_next(text, delimiter):
    """NormalizedString::split(char, MergedWithNext): each delimiter joins the piece after it."""
    ranges, cur = [], ""
    for ch in text:
        if ch == delimiter:
            if cur:
                ranges.append((cur, False))
                cur = ""
            ranges.append((ch, True))
        else:
            cur += ch
    if cur:
        ranges.append((cur, False))
    acc, previous_match = [], False
    for piece, is_match in reversed(ranges):
        if is_match and not previous_match and acc:
            acc[-1] = piece + acc[-1]
        else:
            acc.append(piece)
        previous_match = is_match
    return list(reversed(acc))


def learn_merges(word_counts, num_merges):
    """Greedy BPE learning: most frequent adjacent pair, ties to the smallest pair."""
    words = Counter()
    for w, c in word_counts.items():
        words[tuple(w)] += c
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for w, c in words.items():
            for p in zip(w, w[1:]):
                pairs[p] += c
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        merged = Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged[tuple(out)] += c
        words = merged
    return merges


# ---------------------------------------------------------------- the reference pipeline

class Reference:
    """HF semantics for the components the test files use."""

    def __init__(self, tj):
        self.tj = tj
        m = tj["model"]
        self.vocab = m["vocab"]
        self.rev = {i: t for t, i in self.vocab.items()}
        merges = [tuple(x.split(" ")) if isinstance(x, str) else tuple(x) for x in m["merges"]]
        self.merges = merges
        self.merge_map = {}
        for rank, (a, b) in enumerate(merges):
            self.merge_map[(self.vocab[a], self.vocab[b])] = (rank, self.vocab[a + b])
        self.ranks = {(a, b): r for r, (a, b) in enumerate(merges)}
        self.added = tj["added_tokens"]
        for t in self.added:
            self.rev[t["id"]] = t["content"]

    # added tokens: leftmost-longest, no flags set in these files
    def split_added(self, text, normalized_flag):
        pats = [(self.normalize(t["content"]) if normalized_flag else t["content"], t["id"])
                for t in self.added if t["normalized"] == normalized_flag]
        out, pos, start = [], 0, 0
        while pos < len(text):
            best = None
            for p, i in pats:
                if p and text.startswith(p, pos) and (best is None or len(p) > len(best[0])):
                    best = (p, i)
            if best is None:
                pos += 1
                continue
            if start < pos:
                out.append((text[start:pos], None, start))
            out.append((best[0], best[1], pos))
            pos += len(best[0])
            start = pos
        if start < len(text):
            out.append((text[start:], None, start))
        return out

    def normalize(self, text):
        n = self.tj["normalizer"]
        if n is None:
            return text
        parts = n["normalizers"] if n["type"] == "Sequence" else [n]
        for p in parts:
            if p["type"] == "NFC":
                text = unicodedata.normalize("NFC", text)
            elif p["type"] == "Prepend":
                text = p["prepend"] + text if text else text
            elif p["type"] == "Replace":
                text = text.replace(p["pattern"]["String"], p["content"])
            else:
                raise ValueError(p["type"])
        return text

    def pre_tokenize(self, pieces, pt):
        """pieces: list of (text, at_start)."""
        if pt is None:
            return pieces
        kind = pt["type"]
        if kind == "Sequence":
            for sub in pt["pretokenizers"]:
                pieces = self.pre_tokenize(pieces, sub)
            return pieces
        out = []
        for text, at_start in pieces:
            if kind == "Split":
                for m in regex.finditer(pt["pattern"]["Regex"], text):
                    out.append((m.group(0), at_start and m.start() == 0))
                assert "".join(m.group(0) for m in regex.finditer(pt["pattern"]["Regex"], text)) == text
            elif kind == "ByteLevel":
                if pt["add_prefix_space"] and not text.startswith(" "):
                    text = " " + text
                words = [m.group(0) for m in regex.finditer(GPT2_PATTERN, text)] if pt["use_regex"] else [text]
                assert "".join(words) == text
                out.extend((byte_map(w), False) for w in words if w)
            elif kind == "Digits":
                # individual_digits: every numeric character is a piece of its own
                cur = ""
                for ch in text:
                    if unicodedata.category(ch) in ("Nd", "Nl", "No"):
                        if cur:
                            out.append((cur, False))
                        out.append((ch, False))
                        cur = ""
                    else:
                        cur += ch
                if cur:
                    out.append((cur, False))
            elif kind == "Metaspace":
                text = text.replace(" ", META)
                scheme = pt["prepend_scheme"]
                if text and not text.startswith(META) and (scheme == "always" or (scheme == "first" and at_start)):
                    text = META + text
                if not pt["split"]:
                    out.append((text, at_start))
                else:
                    out.extend((w, False) for w in merged_with_next(text, META))
            else:
                raise ValueError(kind)
        return [(t, s) for t, s in out if t]

    def model_tokenize(self, word):
        m = self.tj["model"]
        if m.get("ignore_merges") and word in self.vocab:
            return [self.vocab[word]]
        symbols = []
        for ch in word:
            if ch in self.vocab:
                symbols.append(self.vocab[ch])
            elif m.get("byte_fallback"):
                symbols.extend(self.vocab["<0x%02X>" % b] for b in ch.encode("utf-8"))
            else:
                raise ValueError("character outside the test vocabulary: %r" % ch)
        ids = hf_merge(symbols, self.merge_map)
        if not m.get("byte_fallback"):
            pieces = openai_bpe(word, self.ranks)
            assert [self.vocab[p] for p in pieces] == ids, (word, pieces, ids)
        return ids

    def encode(self, text, add_special):
        ids = []
        for piece, tid, start in self.split_added(text, False):
            if tid is not None:
                ids.append(tid)
                continue
            norm = self.normalize(piece)
            for sub, sid, sstart in self.split_added(norm, True):
                if sid is not None:
                    ids.append(sid)
                    continue
                for word, _ in self.pre_tokenize([(sub, start == 0 and sstart == 0)], self.tj["pre_tokenizer"]):
                    ids.extend(self.model_tokenize(word))
        processors = []
        pp = self.tj["post_processor"]
        if pp is not None:
            processors = pp["processors"] if pp["type"] == "Sequence" else [pp]
        for pp in processors:
            if not add_special or pp["type"] != "TemplateProcessing":
                continue  # ByteLevel only trims offsets
            pre, post, seen = [], [], False
            for piece in pp["single"]:
                if "Sequence" in piece:
                    seen = True
                else:
                    (post if seen else pre).extend(pp["special_tokens"][piece["SpecialToken"]["id"]]["ids"])
            ids = pre + ids + post
        return ids

    def decode(self, ids, skip_special):
        special = {t["id"] for t in self.added if t["special"]}
        tokens = [self.rev[i] for i in ids if not (skip_special and i in special)]
        return run_decoder(self.tj["decoder"], tokens)


def run_decoder(d, tokens):
    kinds = d["decoders"] if d["type"] == "Sequence" else [d]
    for k in kinds:
        t = k["type"]
        if t == "ByteLevel":
            data = b""
            for tok in tokens:
                data += bytes(BYTE_DECODER[c] for c in tok) if all(c in BYTE_DECODER for c in tok) else tok.encode()
            tokens = [data.decode("utf-8", errors="replace")]
        elif t == "Replace":
            tokens = [tok.replace(k["pattern"]["String"], k["content"]) for tok in tokens]
        elif t == "ByteFallback":
            out, pending = [], b""
            for tok in tokens + [None]:
                if tok is not None and len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
                    pending += bytes([int(tok[3:5], 16)])
                    continue
                if pending:
                    try:
                        out.append(pending.decode("utf-8"))
                    except UnicodeDecodeError:
                        out.extend(["\ufffd"] * len(pending))
                    pending = b""
                if tok is not None:
                    out.append(tok)
            tokens = out
        elif t == "Fuse":
            tokens = ["".join(tokens)]
        elif t == "Strip":
            out = []
            for tok in tokens:
                start = 0
                while start < k["start"] and start < len(tok) and tok[start] == k["content"]:
                    start += 1
                out.append(tok[start:])
            tokens = out
        elif t == "Metaspace":
            tokens = [tok.replace(META, "" if i == 0 and k["prepend_scheme"] != "never" else " ")
                      for i, tok in enumerate(tokens)]
        else:
            raise ValueError(t)
    return "".join(tokens)


# ---------------------------------------------------------------- the files

def added(i, content, special=True, normalized=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": normalized, "special": special}


def template(token, token_id):
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": token, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": token, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [token_id], "tokens": [token]}}}


def bpe_model(vocab, merges, pair_form=False, **extra):
    m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
         "vocab": vocab, "merges": [[a, b] for a, b in merges] if pair_form else ["%s %s" % (a, b) for a, b in merges]}
    m.update(extra)
    return m


def tokenizer_json(model, normalizer, pre_tokenizer, post_processor, decoder, added_tokens):
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added_tokens,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder, "model": model}


def training_text():
    with open(os.path.join(ROOT, "datasets", "base_corpus", "train.txt"), encoding="utf-8") as f:
        corpus = f.read(300_000)
    # The test sentences join the corpus so that their words get merges too; CJK, Greek,
    # Arabic and emoji stay out of the sentencepiece-style vocabulary (byte fallback).
    return corpus + "\n".join(t for t in TEXTS for _ in range(20))


def byte_level_vocab():
    words = Counter()
    for m in regex.finditer(GPT2_PATTERN, training_text()):
        words[byte_map(m.group(0))] += 1
    merges = learn_merges(words, 600)
    vocab = {}
    for ch in sorted(BYTE_ENCODER.values()):  # GPT-2's order: ids 0..255 by code point
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def spm_vocab():
    text = training_text()
    keep = lambda ch: not (unicodedata.category(ch).startswith("L") and ord(ch) > 0x2FF and
                           not ("\u0400" <= ch <= "\u04FF"))
    text = "".join(ch for ch in text if keep(ch) and ord(ch) < 0x2000)
    # Controls stay out of the vocabulary, as in Llama's: "\n" is the byte token <0x0A>.
    text = text.replace("\n", " ").replace("\t", " ")
    norm = META + text.replace(" ", META)
    words = Counter()
    for w in regex.findall(META + "?[^" + META + "]+|" + META, norm):
        words[w] += 1
    merges = learn_merges(words, 500)
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for ch in sorted(set(norm)):
        vocab[ch] = len(vocab)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab, merges


def main():
    files = {}
    vocab, merges = byte_level_vocab()
    n = len(vocab)
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    byte_level_no_regex = dict(byte_level, use_regex=False)
    byte_decoder = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

    files["gpt2_bytelevel.json"] = tokenizer_json(
        bpe_model(vocab, merges), None, byte_level, byte_level, byte_decoder, [added(n, "<|endoftext|>")])

    l3_vocab = dict(vocab)
    l3_vocab[byte_map(" Zürich")] = len(l3_vocab)  # only reachable with ignore_merges
    l3_specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    base = len(l3_vocab)
    files["llama3_style.json"] = tokenizer_json(
        bpe_model(l3_vocab, merges, pair_form=True, ignore_merges=True), None,
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": LLAMA3_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level_no_regex]},
        {"type": "Sequence", "processors": [byte_level, template("<|begin_of_text|>", base)]},
        byte_decoder, [added(base + i, t) for i, t in enumerate(l3_specials)])

    files["qwen2_style.json"] = tokenizer_json(
        bpe_model(vocab, merges), {"type": "NFC"},
        {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
            byte_level_no_regex]},
        byte_level, byte_decoder,
        [added(n, "<|endoftext|>"), added(n + 1, "<|im_start|>"), added(n + 2, "<|im_end|>")])

    files["smollm_style.json"] = tokenizer_json(
        bpe_model(vocab, merges), None,
        {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level]},
        byte_level, byte_decoder,
        [added(n, "<|endoftext|>"), added(n + 1, "<|im_start|>"), added(n + 2, "<|im_end|>")])

    svocab, smerges = spm_vocab()
    sn = len(svocab)
    spm_model = bpe_model(svocab, smerges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    spm_added = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]
    files["llama2_spm.json"] = tokenizer_json(
        spm_model,
        {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": META},
                                             {"type": "Replace", "pattern": {"String": " "}, "content": META}]},
        None, template("<s>", 1),
        {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": META}, "content": " "},
                                          {"type": "ByteFallback"}, {"type": "Fuse"},
                                          {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        spm_added)
    for scheme, split in (("first", False), ("always", True)):
        files["mistral_metaspace_%s.json" % scheme] = tokenizer_json(
            spm_model, None,
            {"type": "Metaspace", "replacement": META, "prepend_scheme": scheme, "split": split},
            template("<s>", 1),
            {"type": "Sequence", "decoders": [
                {"type": "Metaspace", "replacement": META, "prepend_scheme": scheme, "split": split},
                {"type": "ByteFallback"}, {"type": "Fuse"}]},
            spm_added + [added(sn, "[INST]"), added(sn + 1, "[/INST]")])

    expected = {}
    for name, tj in files.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False, indent=1)
            f.write("\n")
        ref = Reference(tj)
        cases = []
        for text in TEXTS:
            ids = ref.encode(text, False)
            cases.append({"text": text, "ids": ids, "ids_with_special": ref.encode(text, True),
                          "decoded": ref.decode(ids, False), "decoded_skip_special": ref.decode(ids, True)})
        expected[name] = cases
    with open(os.path.join(HERE, "expected_ids.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for name in files:
        print(name, len(files[name]["model"]["vocab"]), "tokens,", len(files[name]["model"]["merges"]), "merges")


if __name__ == "__main__":
    main()
