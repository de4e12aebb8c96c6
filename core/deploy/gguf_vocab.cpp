#include "deploy/gguf_vocab.h"

#include "io/json_file.h"
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

// The special ids and the BOS/EOS defaults, as the studio's tokenizer has them
// (tokenizer_config.json applied).
void writeSpecialTokens(io::GgufWriter& w, const tok::Tokenizer& tokenizer)
{
    setId(w, "tokenizer.ggml.bos_token_id", tokenizer.bosId());
    setId(w, "tokenizer.ggml.eos_token_id", tokenizer.eosId());
    setId(w, "tokenizer.ggml.unknown_token_id", tokenizer.unkId());
    setId(w, "tokenizer.ggml.padding_token_id", tokenizer.padId());
    w.set("tokenizer.ggml.add_bos_token", GgufValue{tokenizer.addsBosByDefault()});
    w.set("tokenizer.ggml.add_eos_token", GgufValue{tokenizer.addsEosByDefault()});
}

// tokenizer.chat_template when the folder has its own (not the studio's default ChatML).
bool writeChatTemplate(io::GgufWriter& w, const std::string& modelDir)
{
    const tok::ChatTemplate chat = tok::ChatTemplate::fromTokenizerConfig(modelDir);
    if (chat.isDefault())
        return false;
    w.set("tokenizer.chat_template", GgufValue{chat.source()});
    return true;
}

// llama.cpp's token types (llama_token_type / gguf TokenType).
enum TokenType : int32_t { Normal = 1, Control = 3, UserDefined = 4, Unused = 5 };

// The split patterns of the byte-level vocabularies llama.cpp knows, as tokenizer.json
// writes them, and the tokenizer.ggml.pre name that selects the same split there.
constexpr const char* kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool isByteLevel(const nlohmann::json& p, bool useRegex)
{
    return p.is_object() && p.value("type", "") == "ByteLevel" && !p.value("add_prefix_space", false) &&
           p.value("use_regex", true) == useRegex;
}

// tokenizer.ggml.pre for a byte-level tokenizer.json; ft::Error naming the file and
// what it holds when llama.cpp has no pre-tokenizer that splits text the same way.
std::string preTokenizerName(const nlohmann::json& t, const std::string& file)
{
    const nlohmann::json& normalizer = t.contains("normalizer") ? t["normalizer"] : nlohmann::json();
    const nlohmann::json& pre = t.contains("pre_tokenizer") ? t["pre_tokenizer"] : nlohmann::json();
    std::string name;
    if (isByteLevel(pre, true))
        name = "gpt-2";
    else if (pre.is_object() && pre.value("type", "") == "Sequence" && pre.contains("pretokenizers") &&
             pre["pretokenizers"].size() == 2) {
        const auto& split = pre["pretokenizers"][0];
        const auto& byteLevel = pre["pretokenizers"][1];
        const std::string pattern = split.contains("pattern") && split["pattern"].contains("Regex")
                                        ? split["pattern"]["Regex"].get<std::string>()
                                        : std::string();
        if (split.value("type", "") == "Split" && split.value("behavior", "") == "Isolated" &&
            !split.value("invert", false) && isByteLevel(byteLevel, false)) {
            if (pattern == kLlama3Pattern)
                name = "llama-bpe";
            else if (pattern == kQwen2Pattern)
                name = "qwen2";
        }
    }
    if (name.empty())
        fail(file + ": its pre_tokenizer " + pre.dump().substr(0, 300) + " is not one whose llama.cpp counterpart "
             "is known here (GPT-2's ByteLevel, Llama 3's and Qwen2's split patterns); llama.cpp would split "
             "text differently, so no GGUF is written");
    // Qwen2's NFC is the one normalizer allowed: NFC text (what people type) is unchanged by it.
    if (!normalizer.is_null() && !(name == "qwen2" && normalizer.value("type", "") == "NFC"))
        fail(file + ": its normalizer " + normalizer.dump().substr(0, 200) +
             " has no llama.cpp counterpart for the '" + name + "' pre-tokenizer");
    return name;
}

// Byte-level BPE (tokenizer.json): tokenizer.ggml.model "gpt2" with the byte-level
// token strings as the file has them, the merges, and the added tokens as control
// (special) or user-defined tokens.
std::string writeByteLevelVocabulary(io::GgufWriter& w, const fs::path& jsonPath, int64_t modelVocabSize,
                                     int64_t& tokenCount)
{
    const std::string file = jsonPath.string();
    const nlohmann::json t = io::readJsonFile(file);
    if (!t.contains("model") || t["model"].value("type", "") != "BPE")
        fail(file + ": model.type is not BPE; GGUF export writes byte-level BPE tokenizer.json vocabularies");
    const auto& model = t["model"];
    const nlohmann::json decoder = t.contains("decoder") && t["decoder"].is_object() ? t["decoder"] : nlohmann::json::object();
    if (model.value("byte_fallback", false) || decoder.value("type", "") != "ByteLevel")
        fail(file + ": a sentencepiece-style BPE tokenizer.json (byte fallback / Metaspace); export a folder "
             "with its tokenizer.model instead");
    const std::string pre = preTokenizerName(t, file);

    const auto n = static_cast<size_t>(modelVocabSize);
    std::vector<std::string> tokens(n);
    std::vector<int32_t> types(n, Unused);
    std::vector<bool> seen(n, false);
    const auto put = [&](int64_t id, const std::string& text, int32_t type) {
        if (id < 0 || id >= modelVocabSize)
            fail(file + ": token '" + text + "' has id " + std::to_string(id) + " but the model's embedding has " +
                 std::to_string(modelVocabSize) + " rows");
        tokens[size_t(id)] = text;
        types[size_t(id)] = type;
        seen[size_t(id)] = true;
    };
    for (const auto& [text, id] : model.at("vocab").items())
        put(id.get<int64_t>(), text, Normal);
    if (t.contains("added_tokens"))
        for (const auto& a : t["added_tokens"])
            put(a.at("id").get<int64_t>(), a.at("content").get<std::string>(),
                a.value("special", false) ? Control : UserDefined);
    for (int64_t id = 0; id < modelVocabSize; ++id)
        if (!seen[size_t(id)])
            tokens[size_t(id)] = "[PAD" + std::to_string(id) + "]";  // embedding rows beyond the vocabulary

    std::vector<std::string> merges;
    for (const auto& m : model.value("merges", nlohmann::json::array())) {
        if (m.is_string())
            merges.push_back(m.get<std::string>());
        else if (m.is_array() && m.size() == 2)
            merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        else
            fail(file + ": model.merges holds " + m.dump().substr(0, 80) + ", neither \"a b\" nor [\"a\", \"b\"]");
    }
    w.set("tokenizer.ggml.model", GgufValue{std::string("gpt2")});
    w.set("tokenizer.ggml.pre", GgufValue{pre});
    w.set("tokenizer.ggml.tokens", io::ggufStrings(tokens));
    w.set("tokenizer.ggml.token_type", io::ggufI32s(types));
    w.set("tokenizer.ggml.merges", io::ggufStrings(merges));
    tokenCount = modelVocabSize;
    return "gpt2 (byte-level BPE, pre-tokenizer " + pre + ")";
}

} // namespace

VocabSummary writeVocabulary(io::GgufWriter& w, const std::string& modelDir, int64_t modelVocabSize)
{
    const fs::path spmPath = fs::path(modelDir) / "tokenizer.model";
    if (!fs::exists(spmPath)) {
        const fs::path jsonPath = fs::path(modelDir) / "tokenizer.json";
        if (!fs::exists(jsonPath))
            fail("no tokenizer in " + modelDir + " (tokenizer.model or tokenizer.json expected)");
        VocabSummary summary;
        summary.kind = writeByteLevelVocabulary(w, jsonPath, modelVocabSize, summary.tokens);
        writeSpecialTokens(w, *tok::loadTokenizer(modelDir));  // special ids, BOS/EOS defaults as the studio has them
        summary.chatTemplate = writeChatTemplate(w, modelDir);
        return summary;
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
    writeSpecialTokens(w, *tokenizer);
    w.set("tokenizer.ggml.add_space_prefix", GgufValue{spm.addDummyPrefix});

    return {"llama (sentencepiece " + spm.modelType + ")", int64_t(tokens.size()), writeChatTemplate(w, modelDir)};
}

} // namespace ft::deploy
