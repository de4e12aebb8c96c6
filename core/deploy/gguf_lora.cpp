#include "deploy/gguf_lora.h"

#include "deploy/gguf_arch.h"
#include "deploy/gguf_export.h"
#include "deploy/gguf_tensor.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "peft/adapter_io.h"
#include "util/error.h"
#include "util/text.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <regex>

namespace fs = std::filesystem;

namespace ft::deploy {
namespace {

struct LoraType {
    const char* name;
    uint32_t llamaFtype;
    io::GgmlType type;
};
constexpr LoraType kLoraTypes[] = {
    {"f32", 0, io::GgmlType::F32}, {"f16", 1, io::GgmlType::F16},
    {"bf16", 32, io::GgmlType::BF16}, {"q8_0", 7, io::GgmlType::Q8_0},
};

const LoraType& loraTypeOf(const std::string& name)
{
    for (const auto& t : kLoraTypes)
        if (name == t.name)
            return t;
    fail("a GGUF LoRA adapter is written as f32, f16, bf16 or q8_0, not '" + name + "'");
}

struct Pair {
    std::string hfModule;  // "model.layers.0.self_attn.q_proj"
    at::Tensor a, b;       // (r, in), (out, r)
};

bool nonEmpty(const nlohmann::json& j, const char* key)
{
    return j.contains(key) && !j[key].is_null() && !j[key].empty();
}

} // namespace

const std::vector<std::string>& ggufLoraFileTypes()
{
    static const std::vector<std::string> names{"f32", "f16", "bf16", "q8_0"};
    return names;
}

GgufLoraReport exportGgufLora(const GgufLoraOptions& options)
{
    const LoraType& fileType = loraTypeOf(options.fileType);
    checkGgufOutPath(options.outPath);
    const model::ModelConfig c = model::readModelConfig(model::requireModelFolder(options.modelDir));
    const GgufArch& arch = ggufArch(c.arch);

    const std::string dir = options.adapterDir;
    const nlohmann::json config = peft::readAdapterConfig(dir);
    const std::string configFile = (fs::path(dir) / "adapter_config.json").string();
    const std::string peftType = config.value("peft_type", std::string());
    if (peftType != "LORA")
        fail(configFile + ": peft_type is '" + peftType + "'; llama.cpp applies LoRA adapters only. Export the model "
             "with this adapter merged instead (export gguf --adapter " + dir + ")");
    const peft::PeftSettings s = peft::readAdapterSettings(dir);
    if (s.useDora || s.technique == "dora")
        fail(configFile + ": a DoRA adapter (use_dora) has a magnitude vector llama.cpp cannot apply; export the "
             "model with it merged instead (export gguf --adapter " + dir + ")");
    for (const char* key : {"rank_pattern", "alpha_pattern"})
        if (nonEmpty(config, key))
            fail(configFile + ": field '" + key + "' (per-module ranks or alphas) is not supported by the GGUF "
                 "LoRA export; export the model with the adapter merged instead");
    if (config.contains("bias") && config["bias"].is_string() && config["bias"] != "none")
        fail(configFile + ": bias '" + config["bias"].get<std::string>() + "' trains biases, which a GGUF LoRA "
             "adapter cannot carry; export the model with the adapter merged instead");

    const std::string weightsFile = (fs::path(dir) / "adapter_model.safetensors").string();
    if (!fs::exists(weightsFile))
        fail("adapter folder '" + dir + "' has no adapter_model.safetensors");
    const auto file = io::SafetensorsFile::open(weightsFile);
    static const std::regex loraKey(R"(^base_model\.model\.(.+)\.lora_([AB])\.weight$)");
    std::map<std::string, Pair> pairs;  // by PEFT module name
    for (const auto& t : file.tensors()) {
        std::smatch m;
        if (!std::regex_match(t.name, m, loraKey))
            fail(weightsFile + ": tensor '" + t.name + "' is not a LoRA factor of a projection (embedding LoRA, "
                 "modules_to_save and extra tensors cannot go into a GGUF LoRA adapter); export the model with "
                 "the adapter merged instead");
        // A multimodal model's language model (Gemma 3 4B+) is the GGUF's whole model.
        const std::string module = peft::textModulePath(m[1]);
        Pair& p = pairs[module];
        p.hfModule = module;
        (m[2] == "A" ? p.a : p.b) = model::tensorFromView(t, at::kFloat).contiguous();
    }
    if (pairs.empty())
        fail(weightsFile + ": no LoRA tensors");

    GgufLoraReport report;
    report.architecture = arch.ggufName;
    report.fileType = fileType.name;
    std::map<std::pair<int64_t, std::string>, Pair> ordered;  // by (layer, GGUF name), as the blocks go
    for (auto& [module, p] : pairs) {
        const std::string key = "base_model.model." + module + ".lora_";
        if (!p.a.defined() || !p.b.defined())
            fail(weightsFile + ": '" + key + (p.a.defined() ? "B" : "A") + ".weight' is missing");
        if (p.a.dim() != 2 || p.b.dim() != 2 || p.a.size(0) != p.b.size(1))
            fail(weightsFile + ": '" + key + "A.weight' " + util::shapeString(p.a.sizes().vec()) + " and 'B.weight' " +
                 util::shapeString(p.b.sizes().vec()) + " are not a LoRA pair (A: r x in, B: out x r)");
        const auto name = ggufTensorName(module + ".weight", &arch);
        const int64_t layer = name ? ggufLayerOf(*name) : -1;
        if (layer < 0)
            fail(weightsFile + ": LoRA on '" + module + "' has no place in a GGUF LoRA adapter for llama.cpp "
                 "(only the decoder layers' projections); export the model with the adapter merged instead");
        ordered[{layer, *name}] = p;
    }
    // llama.cpp scales each pair by alpha / r: the file's alpha is the adapter's scaling
    // times r (rsLoRA's alpha / sqrt(r) included), one rank for every pair.
    const int64_t rank = ordered.begin()->second.a.size(0);
    for (const auto& [order, p] : ordered)
        if (p.a.size(0) != rank)
            fail(weightsFile + ": '" + p.hfModule + "' has rank " + std::to_string(p.a.size(0)) + ", others " +
                 std::to_string(rank) + "; a GGUF LoRA adapter has one scaling for all");
    report.rank = rank;
    report.alpha = s.useRslora ? s.loraAlpha * std::sqrt(double(rank)) : s.loraAlpha;

    io::GgufWriter w;
    w.set("general.architecture", io::GgufValue{std::string(arch.ggufName)});
    w.set("general.type", io::GgufValue{std::string("adapter")});
    w.set("general.name", io::GgufValue{fs::absolute(dir).lexically_normal().filename().string()});
    w.set("general.file_type", io::GgufValue{fileType.llamaFtype});
    w.set("general.quantization_version", io::GgufValue{uint32_t(2)});
    w.set("adapter.type", io::GgufValue{std::string("lora")});
    w.set("adapter.lora.alpha", io::GgufValue{float(report.alpha)});
    for (const auto& [order, p] : ordered) {
        const std::string& name = order.second;
        // Rows of lora_a are `in` long, rows of lora_b `r` long: a quantized type needs whole blocks.
        const auto typeFor = [&](const at::Tensor& t) {
            const int64_t row = t.size(1);
            return row % io::ggmlTypeInfo(fileType.type).blockSize == 0 ? fileType.type : io::GgmlType::F16;
        };
        addFloatTensor(w, name + ".lora_a", p.a, typeFor(p.a));
        addFloatTensor(w, name + ".lora_b", p.b, typeFor(p.b), ggufPermuteHeads(arch, c, name));
        report.modules++;
    }
    w.write(options.outPath, options.progress);
    report.fileBytes = size_t(fs::file_size(options.outPath));
    return report;
}

} // namespace ft::deploy
