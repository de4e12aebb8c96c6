// A Tokenizer over a Hugging Face tokenizer.json with a BPE model: byte-level BPE
// (GPT-2, Llama 3, Qwen2/2.5, SmolLM2) and sentencepiece-style BPE (Llama 2, Mistral,
// TinyLlama: Metaspace or Prepend+Replace, byte fallback). The pipeline is Hugging
// Face's: added tokens found in the raw text -> normalizer -> added tokens with
// "normalized" found in the normalized text -> pre-tokenizer -> BPE per word ->
// post-processor (TemplateProcessing, Roberta/Bert, ByteLevel, Sequence); decoding runs
// the decoder chain. Any component this code does not implement is an ft::Error that
// names the file and the JSON path, never a silently different tokenization.
// Not here: chat templates, reading tokenizer_config.json beyond the special tokens.
#pragma once

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ft::tok {

// Special tokens by content, as tokenizer_config.json names them.
struct SpecialTokenNames {
    std::optional<std::string> bos, eos, pad, unk;
};

class JsonTokenizer final : public Tokenizer {
public:
    // `source` (the file path) prefixes every error message.
    static std::unique_ptr<JsonTokenizer> fromJson(const nlohmann::json& json, const std::string& source);

    // addBos/addEos: the tokens the post-processor puts before/after the text (for
    // Llama 3 <|begin_of_text|>), or bosId()/eosId() when it puts none there.
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    // skipSpecial drops special added tokens and the bos/eos/pad ids (Hugging Face's
    // skip_special_tokens). Ids inside the range that no token has decode to nothing.
    std::string decode(const std::vector<int>& ids, bool skipSpecial = true) const override;
    int vocabSize() const override { return m_vocabSize; }
    int bosId() const override { return m_bosId; }
    int eosId() const override { return m_eosId; }
    int padId() const override { return m_padId; }
    int unkId() const override { return m_unkId; }
    std::string idToPiece(int id) const override;
    std::optional<int> pieceToId(std::string_view piece) const override;

    // Hugging Face's tokenizer.encode(text, add_special_tokens).ids.
    std::vector<int> encodeHf(std::string_view text, bool addSpecialTokens) const;
    bool isSpecial(int id) const;
    const std::vector<AddedToken>& addedTokens() const { return m_addedTokens; }
    const std::vector<int>& templatePrefix() const { return m_prefix; }
    const std::vector<int>& templateSuffix() const { return m_suffix; }
    const BpeModel& model() const { return *m_model; }

    // true: special tokens written in the text ("<|eot_id|>" typed by a user) are encoded
    // as the plain text they are, not as the special id (Hugging Face's
    // encode_special_tokens / transformers' split_special_tokens). Default false, as
    // there. Set it before sharing the tokenizer between threads.
    void setEncodeSpecialTokens(bool asText) { m_encodeSpecialTokens = asText; }

    // Sets bos/eos/pad/unk from token contents; ft::Error when bos or eos names no token
    // (pad/unk that name no token are left unset).
    void setSpecialTokens(const SpecialTokenNames& names, const std::string& source);

private:
    JsonTokenizer() = default;
    void encodeInto(std::string_view text, std::vector<int>& ids) const;
    void encodeStretch(std::string_view stretch, bool atStart, std::vector<int>& ids) const;
    void modelEncode(std::string text, bool atStart, std::vector<int>& ids) const;
    const std::string* tokenOf(int id) const;

    std::unique_ptr<BpeModel> m_model;
    std::unique_ptr<Normalizer> m_normalizer;
    std::unique_ptr<PreTokenizer> m_preTokenizer;
    std::unique_ptr<Decoder> m_decoder;
    std::vector<AddedToken> m_addedTokens;
    std::unordered_map<int, size_t> m_addedById;
    std::unordered_map<std::string, int> m_addedByContent;
    AddedTokenSplitter m_rawSplitter;        // tokens with normalized == false
    AddedTokenSplitter m_normalizedSplitter; // tokens with normalized == true
    std::vector<int> m_prefix, m_suffix;     // post-processor tokens around a single text
    bool m_encodeSpecialTokens = false;
    int m_vocabSize = 0;
    int m_bosId = -1, m_eosId = -1, m_padId = -1, m_unkId = -1;
};

// bos_token, eos_token, pad_token, unk_token of a tokenizer_config.json (a string, or
// an object with "content"); a missing file gives none. ft::Error naming the file and
// key on a malformed value.
SpecialTokenNames readSpecialTokenNames(const std::string& configPath);

// Loads a tokenizer.json, takes its special tokens from the tokenizer_config.json next
// to it when there is one, and sets the BOS/EOS defaults to what the post-processor
// adds (so encodeForModel(text) equals Hugging Face's tokenizer(text).input_ids).
// ft::Error naming the file (and JSON path) when it is missing, malformed or uses an
// unsupported component.
std::unique_ptr<JsonTokenizer> loadTokenizerJson(const std::string& path);

} // namespace ft::tok
