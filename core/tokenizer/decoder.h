// tokenizer.json decoders: token strings -> text, as a chain over the list of token
// strings (Hugging Face's Decoder::decode_chain; the results are concatenated at the
// end). Supported types: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace,
// BPEDecoder, Sequence; others are an ft::Error naming the JSON path. Text that ends
// inside a UTF-8 sequence decodes, as in Hugging Face, to a trailing U+FFFD: one for
// ByteLevel (String::from_utf8_lossy), one per pending byte for ByteFallback.
#pragma once

#include "tokenizer/json_fields.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok {

class Decoder {
public:
    virtual ~Decoder() = default;
    virtual void decodeChain(std::vector<std::string>& tokens) const = 0;
};

// `json` is the "decoder" object; `where` names the file and path for errors.
std::unique_ptr<Decoder> makeDecoder(const jsonf::Json& json, const std::string& where);

// For streaming: the length of the prefix of `decoded` (the decoding of all ids so far)
// that later ids cannot change, i.e. without a trailing incomplete UTF-8 sequence and
// without a trailing run of up to three U+FFFD, which is how an unfinished character
// decodes (one U+FFFD from ByteLevel and sentencepiece byte pieces of one kind, one per
// byte from ByteFallback). Emit text only up to this length; flush the rest at the end.
size_t streamableLength(std::string_view decoded);

} // namespace ft::tok
