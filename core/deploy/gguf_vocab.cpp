#include "deploy/gguf_vocab.h"

#include "tokenizer/chat_template.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace ft::deploy {
namespace {

using io::GgufValue;

void setId(io::GgufWriter& w, const char* key, int64_t id)
{
    if (id >= 0)
        w.set(key, GgufValue{uint32_t(id)});
}

} // namespace

VocabSummary writeVocabulary(io::GgufWriter& w, const std::string& modelDir, int64_t modelVocabSize)
{
    const fs::path spmPath = fs::path(modelDir) / "tokenizer.model";
    if (!fs::exists(spmPath)) {
        if (fs::exists(fs::path(modelDir) / "tokenizer.json"))
            fail("GGUF export of tokenizer.json vocabularies (byte-level BPE) is not written yet: " + modelDir +
                 " has tokenizer.json only; sentencepiece folders (tokenizer.model) export");
        fail("no tokenizer in " + modelDir + " (tokenizer.model expected)");
    }
    const tok::SentencePieceModel spm = tok::readSentencePieceModel(spmPath.string());
    if (spm.modelType != "bpe" && spm.modelType != "unigram")
        fail(spmPath.string() + " is a sentencepiece " + spm.modelType +
             " model; llama.cpp's sentencepiece tokenizer reproduces bpe and unigram models only");
    if (int64_t(spm.pieces.size()) > modelVocabSize)
        fail(spmPath.string() + " has " + std::to_string(spm.pieces.size()) +
             " pieces but the model's embedding has only " + std::to_string(modelVocabSize) + " rows");
    // The folder's own view of the special ids and BOS/EOS defaults (tokenizer_config.json).
    const auto tokenizer = tok::loadTokenizer(modelDir);

    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<int32_t> types;
    for (const auto& p : spm.pieces) {
        tokens.push_back(p.text);
        scores.push_back(p.score);
        types.push_back(int32_t(p.type));
    }
    // Embedding rows beyond the vocabulary (padded vocabularies): unused entries, as the converter writes.
    for (int64_t id = int64_t(spm.pieces.size()); id < modelVocabSize; ++id) {
        tokens.push_back("[PAD" + std::to_string(id) + "]");
        scores.push_back(-1000.0f);
        types.push_back(int32_t(tok::SentencePieceModel::PieceType::Unused));
    }
    w.set("tokenizer.ggml.model", GgufValue{std::string("llama")});
    w.set("tokenizer.ggml.pre", GgufValue{std::string("default")});
    w.set("tokenizer.ggml.tokens", io::ggufStrings(tokens));
    w.set("tokenizer.ggml.scores", io::ggufF32s(scores));
    w.set("tokenizer.ggml.token_type", io::ggufI32s(types));
    setId(w, "tokenizer.ggml.bos_token_id", tokenizer->bosId());
    setId(w, "tokenizer.ggml.eos_token_id", tokenizer->eosId());
    setId(w, "tokenizer.ggml.unknown_token_id", tokenizer->unkId());
    setId(w, "tokenizer.ggml.padding_token_id", tokenizer->padId());
    w.set("tokenizer.ggml.add_bos_token", GgufValue{tokenizer->addsBosByDefault()});
    w.set("tokenizer.ggml.add_eos_token", GgufValue{tokenizer->addsEosByDefault()});
    w.set("tokenizer.ggml.add_space_prefix", GgufValue{spm.addDummyPrefix});

    VocabSummary summary{"llama (sentencepiece " + spm.modelType + ")", int64_t(tokens.size()), false};
    const tok::ChatTemplate chat = tok::ChatTemplate::fromTokenizerConfig(modelDir);
    if (!chat.isDefault()) {
        w.set("tokenizer.chat_template", GgufValue{chat.source()});
        summary.chatTemplate = true;
    }
    return summary;
}

} // namespace ft::deploy
