// The LoRA family's descriptors: LoRA, DoRA, rsLoRA and QLoRA share LoRA's tuner
// (peft/lora.cpp) and PEFT's peft_type LORA; they differ in their names, their
// summaries and the settings each variant fixes or adds.
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

TechniqueEstimate estimateLora(const model::ModelConfig& c, const PeftSettings& s)
{
    const bool dora = s.useDora || s.technique == "dora";
    TechniqueEstimate e;
    for (const ProjectionShape& p : selectShapes(c, targetsOrDefault(s, c)))
        e.added += s.r * (p.in + p.out) + (dora ? p.out : 0);
    if (s.technique == "qlora") {
        // NF4: half a byte per projection weight, plus its block's absmax scale (an 8-bit
        // code and a share of a second-level fp32 scale per 256 blocks with double quantization).
        const double block = double(s.quantBlockSize);
        e.quantizedBytesPerParameter = 0.5 + (s.doubleQuant ? 1.0 / block + 4.0 / (block * 256) : 4.0 / block);
        for (const ProjectionShape& p : projectionShapes(c))
            if (p.layer >= 0 && !p.router)
                e.quantizedParameters += p.in * p.out;
    }
    return e;
}

// PEFT's LORA fields; DoRA and our QLoRA marker pick the technique.
void readPeftLora(const nlohmann::json& j, const std::string& file, PeftSettings& s)
{
    s.r = configField<int64_t>(j, "r", 8, file);
    s.loraAlpha = configField<double>(j, "lora_alpha", 8.0, file);
    s.loraDropout = configField<double>(j, "lora_dropout", 0.0, file);
    s.useRslora = configField<bool>(j, "use_rslora", false, file);
    s.useDora = configField<bool>(j, "use_dora", false, file);
    s.technique = s.useDora ? "dora" : "lora";
    if (j.contains("quantization") && j["quantization"].is_object()) {
        s.technique = "qlora";
        s.quantBlockSize = configField<int64_t>(j["quantization"], "block_size", 64, file);
        s.doubleQuant = configField<bool>(j["quantization"], "double_quant", true, file);
    }
}

// The LoRA family shares everything but its name, its summary and the settings keys
// its variant fixes (dora implies use_dora, rslora use_rslora) or adds (qlora's NF4).
Technique loraFamily(std::string name, std::string summary, std::vector<std::string> settings)
{
    return {.name = std::move(name),
            .summary = std::move(summary),
            .peftType = "LORA",
            .settings = std::move(settings),
            .defaultTargets = {"q_proj", "k_proj", "v_proj", "o_proj"},
            .tuner = "lora",
            .estimate = estimateLora};
}

} // namespace

const Technique& loraTechnique()
{
    static const Technique t = [] {
        Technique lora = loraFamily("lora", "LoRA: a trained low-rank update B·A beside each targeted projection",
                                    {"target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora"});
        lora.readPeftConfig = readPeftLora;  // PEFT's LORA folders (DoRA and QLoRA included) read back through it
        return lora;
    }();
    return t;
}

const Technique& doraTechnique()
{
    static const Technique t = loraFamily("dora", "DoRA: LoRA with a trained magnitude per output row",
                                          {"target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora"});
    return t;
}

const Technique& rsloraTechnique()
{
    static const Technique t = loraFamily("rslora", "rsLoRA: LoRA scaled by alpha / sqrt(r)",
                                          {"target_modules", "r", "lora_alpha", "lora_dropout", "use_dora"});
    return t;
}

const Technique& qloraTechnique()
{
    static const Technique t =
        loraFamily("qlora", "QLoRA: LoRA over a base whose projections are stored in 4-bit NF4",
                   {"target_modules", "r", "lora_alpha", "lora_dropout", "use_rslora", "use_dora", "quant_block_size",
                    "double_quant"});
    return t;
}

} // namespace ft::peft
