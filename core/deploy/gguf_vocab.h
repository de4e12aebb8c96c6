// The tokenizer of a model folder as GGUF's tokenizer.* keys, so that llama.cpp
// tokenizes like the studio: sentencepiece models (tokenizer.model) as
// tokenizer.ggml.model = "llama" with every piece, score and type, the special ids,
// add_bos/add_eos/add_space_prefix, and the folder's chat template.
// Not here: tokenizer.json vocabularies (byte-level BPE, "gpt2"), refused with the
// reason until they are written.
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
