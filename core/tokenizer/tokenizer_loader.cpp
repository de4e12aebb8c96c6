// loadTokenizer: model folder -> Tokenizer with the folder's BOS/EOS defaults.
// Only the dispatch on file names and tokenizer_config.json live here.
#include "tokenizer/tokenizer_loader.h"

#include "io/json_file.h"
#include "tokenizer/tokenizer_json.h"

#include "tokenizer/sentencepiece_tokenizer.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace ft::tok {
namespace {

namespace fs = std::filesystem;

// A boolean key that may be absent or null (both mean "default").
bool readBool(const nlohmann::json& config, const char* key, bool fallback, const std::string& path)
{
    const auto it = config.find(key);
    if (it == config.end() || it->is_null())
        return fallback;
    if (!it->is_boolean())
        fail("In " + path + ", \"" + key + "\" must be true or false, found " + it->dump() + ".");
    return it->get<bool>();
}

// One added token from its JSON object ({"content", "lstrip", "rstrip", ...}).
AddedToken addedTokenFrom(const nlohmann::json& j, int id, const std::string& where)
{
    if (!j.is_object() || !j.contains("content") || !j["content"].is_string())
        fail(where + ": an added token needs a \"content\" string, found " + j.dump());
    AddedToken t;
    t.id = id;
    t.content = j["content"].get<std::string>();
    auto flag = [&](const char* key, bool fallback) {
        return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : fallback;
    };
    t.special = flag("special", false);
    t.singleWord = flag("single_word", false);
    t.lstrip = flag("lstrip", false);
    t.rstrip = flag("rstrip", false);
    t.normalized = flag("normalized", !t.special);
    return t;
}

// The added tokens of a sentencepiece folder, where transformers finds them: the fast
// tokenizer's tokenizer.json (added_tokens), else tokenizer_config.json
// (added_tokens_decoder), else the older added_tokens.json ({content: id}).
std::vector<AddedToken> sentencePieceAddedTokens(const fs::path& dir)
{
    std::error_code ec;
    std::vector<AddedToken> tokens;
    if (const fs::path p = dir / "tokenizer.json"; fs::exists(p, ec)) {
        const nlohmann::json j = io::readJsonFile(p.string());
        if (j.contains("added_tokens") && j["added_tokens"].is_array())
            for (size_t i = 0; i < j["added_tokens"].size(); ++i) {
                const auto& e = j["added_tokens"][i];
                const std::string where = p.string() + " at added_tokens[" + std::to_string(i) + "]";
                if (!e.is_object() || !e.contains("id") || !e["id"].is_number_integer() || e["id"].get<int64_t>() < 0)
                    fail(where + ": an added token needs a non-negative \"id\"");
                tokens.push_back(addedTokenFrom(e, e["id"].get<int>(), where));
            }
        return tokens;
    }
    if (const fs::path p = dir / "tokenizer_config.json"; fs::exists(p, ec)) {
        const nlohmann::json j = io::readJsonFile(p.string());
        if (j.is_object() && j.contains("added_tokens_decoder") && j["added_tokens_decoder"].is_object()) {
            for (const auto& [key, e] : j["added_tokens_decoder"].items()) {
                int id = -1;
                const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
                if (ec != std::errc() || end != key.data() + key.size() || id < 0)
                    fail(p.string() + " at added_tokens_decoder: the key \"" + key + "\" is not a token id");
                tokens.push_back(addedTokenFrom(e, id, p.string() + " at added_tokens_decoder[\"" + key + "\"]"));
            }
            return tokens;
        }
    }
    if (const fs::path p = dir / "added_tokens.json"; fs::exists(p, ec)) {
        const nlohmann::json j = io::readJsonFile(p.string());
        if (!j.is_object())
            fail(p.string() + ": expected an object of {\"token\": id}");
        for (const auto& [content, id] : j.items()) {
            if (!id.is_number_integer() || id.get<int64_t>() < 0)
                fail(p.string() + ": the id of \"" + content + "\" must be a non-negative integer, found " + id.dump());
            AddedToken t;
            t.id = id.get<int>();
            t.content = content;
            t.normalized = false;
            tokens.push_back(t);
        }
    }
    return tokens;
}

// Whether transformers gives a sentencepiece folder's dummy prefix ("▁") only to the
// start of the text, not again after each special token: its fast tokenizer
// (tokenizer.json) when a Metaspace pre-tokenizer says prepend_scheme "first"; without
// one, the slow tokenizer when tokenizer_config.json says "legacy": false.
bool dummyPrefixAtStartOnly(const fs::path& dir)
{
    std::error_code ec;
    if (const fs::path p = dir / "tokenizer.json"; fs::exists(p, ec)) {
        const nlohmann::json j = io::readJsonFile(p.string());
        const nlohmann::json* pre = j.is_object() && j.contains("pre_tokenizer") ? &j["pre_tokenizer"] : nullptr;
        if (!pre || !pre->is_object())
            return false;
        std::vector<const nlohmann::json*> parts{pre};
        if (pre->value("type", "") == "Sequence" && pre->contains("pretokenizers") && (*pre)["pretokenizers"].is_array())
            for (const auto& part : (*pre)["pretokenizers"])
                parts.push_back(&part);
        for (const nlohmann::json* part : parts)
            if (part->is_object() && part->value("type", "") == "Metaspace" &&
                part->contains("prepend_scheme") && (*part)["prepend_scheme"] == "first")
                return true;
        return false;
    }
    if (const fs::path p = dir / "tokenizer_config.json"; fs::exists(p, ec)) {
        const nlohmann::json j = io::readJsonFile(p.string());
        return j.is_object() && j.contains("legacy") && j["legacy"] == false;
    }
    return false;
}

} // namespace

TokenizerConfig readTokenizerConfig(const std::string& configPath)
{
    TokenizerConfig config;
    std::error_code ec;
    if (!fs::exists(configPath, ec))
        return config;
    std::ifstream in(configPath, std::ios::binary);
    if (!in)
        fail("Cannot open " + configPath + " for reading.");
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        fail("Cannot parse " + configPath + " as JSON: " + e.what());
    }
    if (!json.is_object())
        fail(configPath + " must hold a JSON object, found " + std::string(json.type_name()) + ".");
    config.addBosToken = readBool(json, "add_bos_token", config.addBosToken, configPath);
    config.addEosToken = readBool(json, "add_eos_token", config.addEosToken, configPath);
    config.bosGiven = json.contains("add_bos_token") && !json["add_bos_token"].is_null();
    config.eosGiven = json.contains("add_eos_token") && !json["add_eos_token"].is_null();
    return config;
}

std::unique_ptr<Tokenizer> loadTokenizer(const std::string& modelDir)
{
    std::error_code ec;
    const fs::path dir(modelDir);
    if (!fs::is_directory(dir, ec))
        fail("Model folder " + modelDir + " does not exist or is not a folder.");
    const fs::path spmPath = dir / "tokenizer.model";
    const fs::path jsonPath = dir / "tokenizer.json";

    std::unique_ptr<Tokenizer> tokenizer;
    if (fs::exists(spmPath, ec)) {
        auto spm = SentencePieceTokenizer::load(spmPath.string());
        spm->setAddedTokens(sentencePieceAddedTokens(dir));
        spm->setDummyPrefixAtStartOnly(dummyPrefixAtStartOnly(dir));
        tokenizer = std::move(spm);
    } else if (fs::exists(jsonPath, ec)) {
        // Hugging Face's fast tokenizer: BOS/EOS come from its post-processor template,
        // overridden only by keys tokenizer_config.json really has.
        tokenizer = loadTokenizerJson(jsonPath.string());
        const TokenizerConfig config = readTokenizerConfig((dir / "tokenizer_config.json").string());
        tokenizer->setSpecialTokenDefaults(config.bosGiven ? config.addBosToken : tokenizer->addsBosByDefault(),
                                           config.eosGiven ? config.addEosToken : tokenizer->addsEosByDefault());
        return tokenizer;
    } else {
        fail("No tokenizer in model folder " + modelDir + ": looked for tokenizer.model "
             "(sentencepiece) and tokenizer.json.");
    }
    const TokenizerConfig config = readTokenizerConfig((dir / "tokenizer_config.json").string());
    tokenizer->setSpecialTokenDefaults(config.addBosToken, config.addEosToken);
    return tokenizer;
}

} // namespace ft::tok
