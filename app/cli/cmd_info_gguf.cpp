// ftstudio-cli info FILE.gguf: what a GGUF file holds (architecture, hyper-parameters,
// tokenizer, tensors and their types), read with the project's validating reader, so a
// malformed file is reported with the byte offset and the key or tensor at fault.
#include "cli/commands.h"

#include "io/gguf.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

namespace ftcli {

int runGgufInfo(const std::string& path, bool json)
{
    const auto file = ft::io::GgufFile::open(path);
    std::map<std::string, int64_t> tensorsByType, bytesByType;
    int64_t params = 0;
    for (const auto& t : file.tensors()) {
        const std::string type = ft::io::ggmlTypeInfo(t.type).name;
        tensorsByType[type]++;
        bytesByType[type] += int64_t(t.nbytes());
        params += t.numel();
    }
    auto text = [&](const char* key) -> std::string {
        const auto* v = file.find(key);
        return v && v->type() == ft::io::GgufValueType::String ? std::get<std::string>(v->v) : std::string();
    };
    const std::string arch = text("general.architecture");
    int64_t tokens = 0;
    if (const auto* v = file.find("tokenizer.ggml.tokens"))
        tokens = int64_t(v->asArray("tokenizer.ggml.tokens").items.size());
    if (json) {
        nlohmann::json meta = nlohmann::json::object();
        for (const auto& [key, value] : file.metadata()) {
            if (value.type() == ft::io::GgufValueType::Array)
                meta[key] = {{"type", "array"},
                             {"element_type", ft::io::ggufValueTypeName(value.asArray(key).type)},
                             {"count", value.asArray(key).items.size()}};
            else if (value.type() == ft::io::GgufValueType::String)
                meta[key] = std::get<std::string>(value.v);
            else if (value.type() == ft::io::GgufValueType::Bool)
                meta[key] = std::get<bool>(value.v);
            else if (value.type() == ft::io::GgufValueType::F32 || value.type() == ft::io::GgufValueType::F64)
                meta[key] = value.asDouble(key);
            else
                meta[key] = value.asInt(key);
        }
        nlohmann::json tensors = nlohmann::json::array();
        for (const auto& t : file.tensors())
            tensors.push_back({{"name", t.name},
                               {"dims", t.dims},
                               {"type", ft::io::ggmlTypeInfo(t.type).name},
                               {"offset", t.offset},
                               {"bytes", t.nbytes()}});
        nlohmann::json j{{"file", path},          {"format", "gguf"},     {"version", file.version()},
                         {"alignment", file.alignment()}, {"architecture", arch}, {"parameters", params},
                         {"bytes", file.fileSize()}, {"tokens", tokens},   {"tensor_types", tensorsByType},
                         {"metadata", meta},      {"tensors", tensors}};
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::printf("file          %s (GGUF version %u, %.1f MB)\n", path.c_str(), file.version(), double(file.fileSize()) / 1e6);
    std::printf("architecture  %s\n", arch.empty() ? "(none given)" : arch.c_str());
    if (text("general.type") == "adapter")
        std::printf("kind          %s adapter (applied to a base model of that architecture)\n",
                    text("adapter.type").c_str());
    std::printf("parameters    %lld in %zu tensors\n", (long long)params, file.tensors().size());
    std::printf("tensor types ");
    for (const auto& [type, n] : tensorsByType)
        std::printf(" %s: %lld (%.1f MB)", type.c_str(), (long long)n, double(bytesByType[type]) / 1e6);
    if (file.find("tokenizer.ggml.model"))
        std::printf("\ntokenizer     %s, %lld tokens\n", text("tokenizer.ggml.model").c_str(), (long long)tokens);
    else
        std::printf("\ntokenizer     none in this file\n");
    std::printf("metadata:\n");
    for (const auto& [key, value] : file.metadata())
        std::printf("  %-44s %s\n", key.c_str(), value.summary().c_str());
    return 0;
}

} // namespace ftcli
