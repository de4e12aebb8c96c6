#include "peft/adapter_config.h"

#include "io/json_file.h"
#include "peft/config_fields.h"
#include "peft/technique.h"
#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace ft::peft {

std::vector<std::string> configStringList(const nlohmann::json& j, const std::string& key, const std::string& file)
{
    if (!j.contains(key) || j[key].is_null())
        return {};
    if (j[key].is_string())
        return {j[key].get<std::string>()};  // PEFT: one string = a regex over module paths
    if (!j[key].is_array())
        fail(file + ": field '" + key + "' must be a list of module names or a string");
    std::vector<std::string> out;
    for (const auto& v : j[key]) {
        if (!v.is_string())
            fail(file + ": field '" + key + "' must hold strings");
        out.push_back(v.get<std::string>());
    }
    return out;
}

namespace {

constexpr const char* kConfigFile = "adapter_config.json";

// Settings from PEFT's own fields (a folder written by PEFT or by another tool): the
// technique of that peft_type that reads PEFT's fields fills them in.
PeftSettings settingsFromPeftFields(const nlohmann::json& j, const std::string& file)
{
    PeftSettings s;
    const std::string type = configField<std::string>(j, "peft_type", "", file);
    s.baseModelNameOrPath = configField<std::string>(j, "base_model_name_or_path", "", file);
    s.targetModules = configStringList(j, "target_modules", file);
    if (type.empty())
        fail(file + ": field 'peft_type' is missing");
    std::vector<std::string> supported;
    for (const Technique* t : techniques()) {
        if (t->peftType == type && t->readPeftConfig) {
            t->readPeftConfig(j, file, s);
            return s;
        }
        if (t->readPeftConfig && std::find(supported.begin(), supported.end(), t->peftType) == supported.end())
            supported.push_back(t->peftType);
    }
    fail(file + ": peft_type '" + type + "' is not supported (supported: " + util::joinList(supported) + ")");
}

} // namespace

std::string textModulePath(const std::string& path)
{
    for (const std::string prefix : {"model.language_model.", "language_model.model."})
        if (path.rfind(prefix, 0) == 0)
            return "model." + path.substr(prefix.size());
    const std::string legacyHead = "language_model.lm_head";
    return path.rfind(legacyHead, 0) == 0 ? "lm_head" + path.substr(legacyHead.size()) : path;
}

nlohmann::json readAdapterConfig(const std::string& dir)
{
    const fs::path file = fs::path(dir) / kConfigFile;
    if (!fs::is_directory(dir))
        fail("adapter folder '" + dir + "' does not exist");
    if (!fs::exists(file))
        fail("'" + dir + "' is not an adapter folder: it has no " + kConfigFile);
    return io::readJsonFile(file.string());
}

PeftSettings readAdapterSettings(const std::string& dir)
{
    return adapterSettingsFromConfig(readAdapterConfig(dir), (fs::path(dir) / kConfigFile).string());
}

PeftSettings adapterSettingsFromConfig(const nlohmann::json& j, const std::string& file)
{
    if (!j.is_object())
        fail(file + ": not a JSON object");
    if (j.contains("ftstudio") && j["ftstudio"].is_object()) {
        std::vector<std::string> errors;
        PeftSettings s = settingsFromJson(j["ftstudio"], "ftstudio", errors);
        if (!errors.empty()) {
            std::string message = file + ": invalid settings:";
            for (const auto& e : errors)
                message += "\n  " + e;
            fail(message);
        }
        s.baseModelNameOrPath = configField<std::string>(j, "base_model_name_or_path", "", file);
        return s;
    }
    PeftSettings s = settingsFromPeftFields(j, file);
    // PEFT's values are held to the ranges our own settings have (a rank of 0, a
    // dropout of 2), so a bad file is refused here, naming its field, and not later
    // by the tuner or the trainer.
    std::vector<std::string> errors;
    settingsFromJson(settingsToJson(s), "", errors);
    if (!errors.empty()) {
        std::string message = file + ": invalid value" + (errors.size() > 1 ? "s:" : ":");
        for (const auto& e : errors)
            message += "\n  " + e;
        fail(message);
    }
    return s;
}

} // namespace ft::peft
