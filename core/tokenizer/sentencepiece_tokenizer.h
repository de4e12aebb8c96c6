// A Tokenizer over a sentencepiece tokenizer.model (Llama, Mistral, the embedded tiny
// base model), plus training a new model with Llama's conventions. sentencepiece
// itself is never linked into core: every call goes through libftspm_bridge.so, loaded
// once per process with dlmopen into its own link namespace (its protobuf-lite would
// clash with libtorch's protobuf, see DESIGN.md). Not here: reading tokenizer_config.json
// (tokenizer_loader.h) and tokenizer.json.
#pragma once

#include "tokenizer/added_tokens.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct FtSpmModel; // opaque, owned by the bridge (spm_bridge.h)

namespace ft::tok {

class SentencePieceTokenizer final : public Tokenizer {
public:
    // Loads a .model file; ft::Error naming the file when it is missing or corrupt, or
    // when the bridge library cannot be found.
    static std::unique_ptr<SentencePieceTokenizer> load(const std::string& modelPath);

    ~SentencePieceTokenizer() override;
    SentencePieceTokenizer(const SentencePieceTokenizer&) = delete;
    SentencePieceTokenizer& operator=(const SentencePieceTokenizer&) = delete;

    // Special and added tokens written in the text ("</s>", Phi-3's "<|user|>") become
    // their ids, as Hugging Face's Llama tokenizers split them off before sentencepiece
    // sees the text; each stretch between them is encoded on its own.
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override;
    std::string decode(const std::vector<int>& ids, bool skipSpecial = true) const override;
    int vocabSize() const override { return std::max(m_vocabSize, m_addedLimit); }
    int bosId() const override { return m_bosId; }
    int eosId() const override { return m_eosId; }
    int padId() const override { return m_padId; }
    int unkId() const override { return m_unkId; }
    std::string idToPiece(int id) const override;
    std::optional<int> pieceToId(std::string_view piece) const override;

    // Piece kinds; ft::Error on an id outside the vocabulary.
    bool isControl(int id) const; // <s>, </s>, <pad> and user control symbols
    bool isByte(int id) const;    // byte-fallback pieces <0x00>..<0xFF>
    bool isUnknown(int id) const; // <unk>

    const std::string& modelPath() const { return m_modelPath; }

    // The model's added tokens (tokenizer_loader reads them from tokenizer.json's
    // added_tokens or tokenizer_config.json's added_tokens_decoder), ids beyond the
    // sentencepiece model included (Phi-3's 32000 ...); the model's own control pieces
    // (<s>, </s>, <unk>) are matched in the text in any case. A content the model has as a
    // piece keeps the model's id.
    void setAddedTokens(std::vector<AddedToken> tokens);
    // Hugging Face's non-legacy rule (Metaspace prepend_scheme "first", "legacy": false):
    // only the text's start gets the dummy prefix; text after a special token is encoded
    // as it is. Off (the default): every stretch between special tokens gets it, as
    // sentencepiece alone and transformers' legacy Llama tokenizer do.
    void setDummyPrefixAtStartOnly(bool on) { m_prefixAtStartOnly = on; }

private:
    SentencePieceTokenizer(FtSpmModel* model, std::string modelPath);
    void checkId(int id) const;
    std::vector<int> encodePlain(std::string_view text) const;  // sentencepiece alone
    std::vector<int> encodeWithoutPrefix(std::string_view text) const;
    std::string decodePlain(const std::vector<int>& ids, bool skipSpecial) const;
    const AddedToken* addedById(int id) const;

    std::vector<AddedToken> m_added;
    AddedTokenSplitter m_splitter;
    bool m_prefixAtStartOnly = false;
    int m_addedLimit = 0;  // one past the highest added id

    FtSpmModel* m_model = nullptr;
    std::string m_modelPath;
    int m_vocabSize = 0;
    int m_bosId = -1;
    int m_eosId = -1;
    int m_padId = -1;
    int m_unkId = -1;
};

// Training options; the defaults follow Llama's tokenizer (BPE, byte fallback, split
// digits, identity normalization, whitespace kept so text round-trips exactly).
struct SpmTrainOptions {
    std::string inputFile;   // plain text, one sentence/paragraph per line
    std::string modelPrefix; // writes <modelPrefix>.model and <modelPrefix>.vocab
    int vocabSize = 2048;
    std::string modelType = "bpe"; // bpe, unigram, char, word
    double characterCoverage = 1.0;
    bool byteFallback = true;
    bool splitDigits = true;
    int bosId = 1, eosId = 2, unkId = 0, padId = -1;
    int numThreads = 2;
    // sentencepiece's random generator seed (it only matters when inputSentenceSize
    // samples the input, or for unigram). Training is single-pass and deterministic
    // given the same input, options and seed. 0xFFFFFFFF is reserved by sentencepiece.
    uint32_t seed = 0;
    std::vector<std::string> userDefinedSymbols; // always single pieces; no commas
    int inputSentenceSize = 0;                   // 0 = use every line
    // sentencepiece logs its progress (and all options) to stderr; quiet silences
    // that (failures still come back as ft::Error with sentencepiece's message).
    bool quiet = false;
    // Anything else spm_train accepts, e.g. {"max_sentence_length", "16384"}.
    std::vector<std::pair<std::string, std::string>> extraFlags;
};

// Trains a model and puts <prefix>.model/.vocab in place (written under a temporary
// prefix, then renamed). ft::Error with sentencepiece's message on failure.
void trainSentencePiece(const SpmTrainOptions& options);

// The bridge library this process uses (loading it if needed); for diagnostics.
std::string sentencePieceBridgePath();

} // namespace ft::tok
