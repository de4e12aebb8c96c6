// The contents of a sentencepiece tokenizer.model read directly from its protobuf
// bytes: every piece with its score and type, and the few trainer and normalizer
// settings that other tools need to reproduce the tokenization (GGUF export writes
// them as tokenizer.ggml.*). Reading is independent of the sentencepiece library (the
// bridge), so tests can check one against the other. Not a tokenizer: encoding and
// decoding stay with SentencePieceTokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ft::tok {

struct SentencePieceModel {
    // sentencepiece's ModelProto.SentencePiece.Type; the values are GGUF's token types too.
    enum class PieceType : int32_t { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 };
    struct Piece {
        std::string text;
        float score = 0;
        PieceType type = PieceType::Normal;
    };
    std::vector<Piece> pieces;
    std::string modelType = "unigram";  // unigram, bpe, word, char (TrainerSpec.model_type)
    bool byteFallback = false;
    bool addDummyPrefix = true;          // NormalizerSpec; sentencepiece's defaults
    bool removeExtraWhitespaces = true;
    std::string normalizerName;          // "identity", "nmt_nfkc" ... (empty when unset)
    int32_t unkId = 0, bosId = 1, eosId = 2, padId = -1;
};

// ft::Error naming the file and the byte offset on malformed protobuf.
SentencePieceModel readSentencePieceModel(const std::string& path);

} // namespace ft::tok
