// The tokenizer of a model folder as GGUF's tokenizer.* keys, so that llama.cpp
// tokenizes like the studio: sentencepiece models (tokenizer.model) as
// tokenizer.ggml.model = "llama" with every piece, score and type; byte-level BPE
// tokenizer.json vocabularies (Llama 3, Qwen2/2.5/3, GPT-2) as "gpt2" with the merges
// and tokenizer.ggml.pre naming llama.cpp's matching pre-tokenizer (others refused,
// naming what the file holds); the special ids, add_bos/add_eos, and the folder's chat
// template. Not here: sentencepiece-style tokenizer.json without tokenizer.model.
#pragma once

#include "io/gguf.h"

#include <string>

namespace ft::deploy {

struct VocabSummary {
    std::string kind;        // "llama (sentencepiece bpe)"
    int64_t tokens = 0;      // including padding entries up to the model's vocab_size
    bool chatTemplate = false;
};

// ft::Error naming the folder and the file when the tokenizer cannot be expressed.
VocabSummary writeVocabulary(io::GgufWriter& w, const std::string& modelDir, int64_t modelVocabSize);

} // namespace ft::deploy
