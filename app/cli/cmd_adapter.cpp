// ftstudio-cli adapter: inspect an adapter folder (type, targets, rank, parameter
// count, per-module norms), merge it into its base model, and export the merged
// model as an ordinary Hugging Face folder.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "model/model_io.h"
#include "model/runtime.h"
#include "peft/adapter_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <cmath>
#include <cstring>
#include <map>

namespace fs = std::filesystem;

namespace ftcli {

namespace {

const char* kAdapterUsage =
    "usage: ftstudio-cli adapter <command> [options]\n"
    "\n"
    "commands:\n"
    "  info     type, targets, rank, parameter count and per-module norms of an adapter folder\n"
    "  merge    fold an adapter into its base model and write the merged model folder\n"
    "  export   merge for sharing: weights in the base checkpoint's dtype unless --dtype says otherwise\n"
    "\n"
    "Run 'ftstudio-cli adapter <command> --help' for its options.\n";

std::string baseFor(const ArgParser& p, const nlohmann::json& config)
{
    if (p.has("model"))
        return p.get("model");
    const std::string base = config.value("base_model_name_or_path", "");
    if (base.empty() || !fs::is_directory(base))
        throw UsageError("the adapter names no local base model folder ('" + base + "'); pass --model DIR");
    return base;
}

int adapterInfo(int argc, char** argv)
{
    ArgParser p("adapter info", "Describe an adapter folder: its technique, targets, rank, parameters and norms.");
    p.option("adapter", "DIR", "the adapter folder (adapter_config.json + adapter_model.safetensors)");
    p.option("model", "DIR", "base model folder (default: base_model_name_or_path of the adapter)");
    p.flag("json", "print one JSON object instead of text");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dir = requireOption(p, "adapter");
    const nlohmann::json config = ft::peft::readAdapterConfig(dir);
    const std::string base = baseFor(p, config);
    auto loaded = ft::model::loadModelFolder(base);
    auto tokenizer = ft::tok::loadTokenizer(base);
    ft::peft::ApplyContext context{tokenizer.get()};
    int64_t baseParams = 0;
    for (const auto& t : loaded.model->parameters())
        baseParams += t.numel();
    auto adapter = ft::peft::loadAdapter(dir, loaded.model, "default", context);

    int64_t adapterParams = 0;
    for (auto& [_, t] : adapter->stateDict())
        adapterParams += t.numel();
    std::map<std::string, double> byModule;  // module path -> norm over its tensors
    for (auto& [key, t] : adapter->stateDict()) {
        std::string module = key;
        if (module.rfind("base_model.model.", 0) == 0)
            module = module.substr(17);
        for (const char* leaf : {".lora_A.weight", ".lora_B.weight", ".lora_magnitude_vector", ".ia3_l", ".bias"})
            if (auto pos = module.rfind(leaf); pos != std::string::npos && pos + std::strlen(leaf) == module.size())
                module.resize(pos);
        const double n = t.to(at::kDouble).norm().item<double>();
        byModule[module] = std::sqrt(byModule[module] * byModule[module] + n * n);
    }
    nlohmann::json j{{"adapter", dir},
                     {"base_model", base},
                     {"peft_type", adapter->peftType()},
                     {"technique", adapter->settings().technique},
                     {"settings", ft::peft::settingsToJson(adapter->settings())},
                     {"tensors", adapter->stateDict().size()},
                     {"parameters", adapterParams},
                     {"base_parameters", baseParams},
                     {"mergeable", adapter->canMerge()},
                     {"module_norms", byModule}};
    if (p.has("json")) {
        std::cout << j.dump(2) << '\n';
        return 0;
    }
    std::printf("adapter      %s\n", dir.c_str());
    std::printf("base model   %s\n", base.c_str());
    std::printf("type         %s (technique %s)\n", adapter->peftType().c_str(), adapter->settings().technique.c_str());
    std::printf("settings     %s\n", ft::peft::settingsToJson(adapter->settings()).dump().c_str());
    std::printf("parameters   %s in %zu tensors (%.3f%% of the base's %s)\n", formatCount(double(adapterParams)).c_str(),
                adapter->stateDict().size(), 100.0 * double(adapterParams) / double(std::max<int64_t>(1, baseParams)),
                formatCount(double(baseParams)).c_str());
    std::printf("mergeable    %s\n", adapter->canMerge() ? "yes" : "no");
    std::printf("module norms:\n");
    for (const auto& [module, norm] : byModule)
        std::printf("  %-48s %.6g\n", module.c_str(), norm);
    return 0;
}

int adapterMerge(int argc, char** argv, const char* name)
{
    ArgParser p(std::string("adapter ") + name,
                "Merge an adapter into its base model and write an ordinary Hugging Face model folder "
                "(config.json, safetensors shards, generation_config.json, tokenizer files).");
    p.option("adapter", "DIR", "the adapter folder");
    p.option("model", "DIR", "base model folder (default: base_model_name_or_path of the adapter)");
    p.option("out", "DIR", "output folder (must not exist, or be empty)");
    const bool exporting = std::string(name) == "export";
    p.option("dtype", "fp32|bf16|fp16",
             exporting ? "dtype of the written weights (default: the base checkpoint's dtype)" : "dtype of the written weights",
             exporting ? "" : "fp32");
    p.option("max-shard-size", "MB", "split weights into shards of at most this size", "5000");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dir = requireOption(p, "adapter"), out = requireOption(p, "out");
    const int64_t shardBytes = p.getInt("max-shard-size") * 1000 * 1000;
    if (shardBytes <= 0)
        throw UsageError("--max-shard-size must be positive");
    if (fs::exists(out) && !fs::is_empty(out))
        ft::fail("output folder '" + out + "' exists and is not empty; choose a new folder");
    const nlohmann::json config = ft::peft::readAdapterConfig(dir);
    const std::string base = baseFor(p, config);
    auto loaded = ft::model::loadModelFolder(base);
    auto tokenizer = ft::tok::loadTokenizer(base);
    ft::peft::ApplyContext context{tokenizer.get()};
    auto adapter = ft::peft::loadAdapter(dir, loaded.model, "default", context);
    std::string dtypeName = p.get("dtype");
    if (dtypeName.empty())
        dtypeName = loaded.storedDtype == "BF16" ? "bf16" : loaded.storedDtype == "F16" ? "fp16" : "fp32";
    const c10::ScalarType dtype = ft::parseDType(dtypeName);
    if (!adapter->canMerge())
        ft::fail("a " + adapter->peftType() + " adapter cannot be merged into the weights (technique '" +
                 adapter->settings().technique + "'); load it as an adapter instead");
    adapter->mergeAndUnload(c10::kFloat);
    // Written under a temporary name and renamed, so a crash leaves no half model.
    const fs::path tmp = fs::path(out).string() + ".tmp-merge";
    fs::remove_all(tmp);
    ft::model::saveModelFolder(tmp.string(), loaded.model, loaded.generation, dtype, shardBytes, base);
    ft::model::copyTokenizerFiles(base, tmp.string());
    if (fs::exists(out))
        fs::remove(out);
    fs::rename(tmp, out);
    std::printf("merged %s (%s) into %s -> %s (%s)\n", dir.c_str(), adapter->peftType().c_str(), base.c_str(),
                out.c_str(), ft::dtypeLabel(dtype).c_str());
    return 0;
}

} // namespace

int runAdapter(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs(kAdapterUsage, stderr);
        return 2;
    }
    const std::string sub = argv[2];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::fputs(kAdapterUsage, stdout);
        return 0;
    }
    try {
        if (sub == "info")
            return adapterInfo(argc, argv);
        if (sub == "merge" || sub == "export")
            return adapterMerge(argc, argv, sub.c_str());
    } catch (const UsageError& e) {
        std::fprintf(stderr, "ftstudio-cli adapter %s: %s\nRun 'ftstudio-cli adapter %s --help' for usage.\n",
                     sub.c_str(), e.what(), sub.c_str());
        return 2;
    }
    throw UsageError("unknown adapter command '" + sub + "' (info, merge, export)");
}

} // namespace ftcli
