// tokenizer.json pre-tokenizers: split normalized text into the words the BPE model
// encodes one by one, with the semantics of Hugging Face `tokenizers`
// (pre_tokenizers/*.rs, NormalizedString::split). Supported types: ByteLevel
// (add_prefix_space, use_regex with GPT-2's pattern, then the byte alphabet), Split
// (String or Regex pattern; Removed, Isolated, MergedWithPrevious, MergedWithNext,
// Contiguous; invert), Metaspace (replacement, prepend_scheme first/always/never or the
// older add_prefix_space, split), Digits (individual_digits), Sequence. Others are an
// ft::Error naming the JSON path. Not here: normalizers (normalizer.h), added tokens.
#pragma once

#include "tokenizer/json_fields.h"

#include <memory>
#include <string>
#include <vector>

namespace ft::tok {

// One piece of the text. `atStart`: the piece begins at offset 0 of the original input
// (Metaspace's prepend_scheme "first" prepends only there).
struct PreToken {
    std::string text;
    bool atStart = false;
};

class PreTokenizer {
public:
    virtual ~PreTokenizer() = default;
    // Replaces `pieces` by their sub-pieces; empty pieces are dropped.
    virtual void split(std::vector<PreToken>& pieces) const = 0;
};

// `json` is the "pre_tokenizer" object; `where` names the file and path for errors.
std::unique_ptr<PreTokenizer> makePreTokenizer(const jsonf::Json& json, const std::string& where);

// GPT-2's split pattern, which ByteLevel applies when use_regex is true.
extern const char* const kGpt2SplitPattern;

} // namespace ft::tok
