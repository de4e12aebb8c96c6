// tokenizer.json normalizers: text -> text before pre-tokenization, applied to each
// stretch of input between added tokens, as Hugging Face does. Supported types:
// Sequence, Prepend, Append, Replace (String or Regex pattern), NFC, NFD, NFKC, NFKD,
// Lowercase, Strip, StripAccents, ByteLevel. Any other type is an ft::Error naming the
// JSON path. Offsets/alignments are not tracked: only ids matter here.
#pragma once

#include "tokenizer/json_fields.h"
#include "tokenizer/split_regex.h"

#include <memory>
#include <string>

namespace ft::tok {

class Normalizer {
public:
    virtual ~Normalizer() = default;
    virtual void normalize(std::string& text) const = 0;
};

// `json` is the "normalizer" object; `where` names the file and path for errors.
std::unique_ptr<Normalizer> makeNormalizer(const jsonf::Json& json, const std::string& where);

// A {"String": "..."} or {"Regex": "..."} pattern (Split, Replace).
SplitRegex patternFromJson(const jsonf::Json& json, const std::string& where);

// `text` with every match of `pattern` replaced by `content`.
std::string replaceAll(const SplitRegex& pattern, const std::string& text, const std::string& content);

} // namespace ft::tok
