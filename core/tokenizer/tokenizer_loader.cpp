// loadTokenizer: model folder -> Tokenizer with the folder's BOS/EOS defaults.
// Only the dispatch on file names and tokenizer_config.json live here.
#include "tokenizer/tokenizer_loader.h"

#include "tokenizer/tokenizer_json.h"

#include "tokenizer/sentencepiece_tokenizer.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

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
        tokenizer = SentencePieceTokenizer::load(spmPath.string());
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
