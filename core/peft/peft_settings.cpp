// The technique settings table and its reading and writing (see peft_settings.h).
// One SettingSpec per PeftSettings field, with the techniques it belongs to; the
// run-config validator, `train --schema` and the GUI's technique form all read it.
// Not here: what a setting does to a model (one file per technique).
#include "peft/peft_settings.h"

#include "peft/technique.h"
#include "util/text.h"

#include <algorithm>

namespace ft::peft {

namespace {

using nlohmann::json;
using util::SettingSpec;
using Type = SettingSpec::Type;

bool contains(const std::vector<std::string>& list, const std::string& item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

std::vector<std::string> stringList(const json& j)
{
    std::vector<std::string> out;
    for (const json& item : j)
        out.push_back(item.get<std::string>());
    return out;
}

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
std::vector<SettingSpec> buildSchema()
{
    std::vector<SettingSpec> specs = {
        {.key = "name", .type = Type::Choice, .defaultValue = "lora", .choices = techniqueNames(),
         .label = "Technique",
         .help = "How the model is adapted: LoRA and its variants, IA3, bottleneck adapters, prefix/prompt/P-tuning, "
                 "BitFit, freezing all but the last layers, or full fine-tuning."},
        {.key = "target_modules", .type = Type::StringList, .defaultValue = json::array(), .label = "Target modules",
         .help = "Projections to adapt: names such as q_proj (or a \".name\" suffix), \"all-linear\", or one "
                 "regular expression over the module path. Empty: the technique's default."},
        {.key = "seed", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Init seed",
         .help = "Seed of the adapter's weight initialization (the training seed is separate)."},

        {.key = "r", .type = Type::Int, .defaultValue = 8, .min = 1, .max = 1024, .label = "Rank r",
         .help = "Rank of the low-rank update B·A; more rank, more trainable parameters."},
        {.key = "lora_alpha", .type = Type::Number, .defaultValue = 16.0, .min = 0, .label = "Alpha",
         .help = "Scale of the update (> 0): alpha / r, or alpha / sqrt(r) with rsLoRA."},
        {.key = "lora_dropout", .type = Type::Number, .defaultValue = 0.05, .min = 0, .max = 0.9,
         .label = "Dropout", .help = "Dropout on the adapter's input while training."},
        // Technique rslora implies use_rslora and dora implies use_dora, so there the keys do not apply.
        {.key = "use_rslora", .type = Type::Bool, .defaultValue = false, .label = "rsLoRA scaling",
         .help = "Scale by alpha / sqrt(r) instead of alpha / r (technique rslora always does)."},
        {.key = "use_dora", .type = Type::Bool, .defaultValue = false, .label = "DoRA",
         .help = "Weight-decomposed LoRA: a trained magnitude per output row (technique dora always has it)."},
        {.key = "quant_block_size", .type = Type::Int, .defaultValue = 64, .choices = {"32", "64", "128", "256"},
         .label = "NF4 block size", .help = "Weights sharing one absmax scale in the 4-bit base."},
        {.key = "double_quant", .type = Type::Bool, .defaultValue = true, .label = "Double quantization",
         .help = "Quantize the per-block scales too (8-bit), saving about 0.4 bits per weight."},

        {.key = "feedforward_modules", .type = Type::StringList, .defaultValue = json::array(),
         .label = "Feed-forward modules",
         .help = "Targets scaled at their input rather than their output. Empty: down_proj."},

        {.key = "adapter_size", .type = Type::Int, .defaultValue = 16, .min = 1, .max = 65536,
         .label = "Bottleneck size", .help = "Width of the down/up bottleneck."},
        {.key = "adapter_placement", .type = Type::Choice, .defaultValue = "houlsby",
         .choices = {"houlsby", "pfeiffer"},
         .label = "Placement",
         .help = "houlsby: after the attention and the MLP sublayers; pfeiffer: after the MLP only."},
        {.key = "adapter_activation", .type = Type::Choice, .defaultValue = "relu", .choices = {"relu", "gelu", "silu"},
         .label = "Activation", .help = "Non-linearity inside the bottleneck."},

        {.key = "num_virtual_tokens", .type = Type::Int, .defaultValue = 20, .min = 1, .max = 512,
         .label = "Virtual tokens", .help = "Learned positions prepended (prompt, P-tuning) or per-layer key/value "
                                            "prefix length (prefix)."},
        {.key = "prefix_projection", .type = Type::Bool, .defaultValue = false, .label = "Prefix projection",
         .help = "Reparameterize the prefixes through an MLP while training."},
        {.key = "encoder_hidden_size", .type = Type::Int, .defaultValue = 128, .min = 1, .max = 65536,
         .label = "Encoder width", .help = "Hidden width of the prefix projection or the P-tuning prompt encoder."},
        {.key = "encoder_type", .type = Type::Choice, .defaultValue = "mlp", .choices = {"mlp", "lstm"},
         .label = "Prompt encoder", .help = "Network producing the virtual tokens."},
        {.key = "encoder_num_layers", .type = Type::Int, .defaultValue = 2, .min = 1, .max = 8,
         .label = "Encoder layers", .help = "Layers of the prompt encoder."},
        {.key = "encoder_dropout", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 0.9,
         .label = "Encoder dropout", .help = "Dropout inside the prompt encoder."},
        {.key = "prompt_init", .type = Type::Choice, .defaultValue = "random", .choices = {"random", "text"},
         .label = "Initialization",
         .help = "random, or text: the virtual tokens start as the embeddings of prompt_init_text."},
        {.key = "prompt_init_text", .type = Type::String, .defaultValue = "", .label = "Initial text",
         .help = "Text whose token embeddings initialize the prompt (prompt_init = text)."},

        {.key = "trainable_layers", .type = Type::Int, .defaultValue = 2, .min = 1, .label = "Trainable layers",
         .help = "The last N decoder layers train; the rest stay frozen."},
        {.key = "train_embeddings", .type = Type::Bool, .defaultValue = false, .label = "Train embeddings",
         .help = "Also train the token embeddings."},
        {.key = "train_lm_head", .type = Type::Bool, .defaultValue = false, .label = "Train output head",
         .help = "Also train the output head (lm_head)."},
    };
    // Which techniques a setting applies to is what each technique declares (technique.h).
    for (SettingSpec& spec : specs) {
        if (spec.key == "name" || spec.key == "seed")
            continue;
        for (const Technique* t : techniques())
            if (contains(t->settings, spec.key))
                spec.appliesTo.push_back(t->name);
    }
    // Then the settings techniques declare themselves.
    for (const Technique* t : techniques())
        for (const SettingSpec& own : t->ownSettings) {
            auto same = std::find_if(specs.begin(), specs.end(), [&](const SettingSpec& x) { return x.key == own.key; });
            if (same == specs.end()) {
                specs.push_back(own);
                specs.back().appliesTo = {t->name};
            } else {
                same->appliesTo.push_back(t->name);
            }
        }
    return specs;
}
#pragma GCC diagnostic pop

bool applies(const SettingSpec& s, const std::string& technique)
{
    return s.appliesTo.empty() || contains(s.appliesTo, technique);
}

} // namespace

const std::vector<std::string>& techniqueNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Technique* t : techniques())
            out.push_back(t->name);
        return out;
    }();
    return names;
}

const std::vector<util::SettingSpec>& settingsSchema()
{
    static const std::vector<SettingSpec> schema = buildSchema();
    return schema;
}

PeftSettings settingsFromJson(const nlohmann::json& j, const std::string& path, std::vector<std::string>& errors)
{
    const json r = util::applySchema(j, settingsSchema(), path, errors);
    const auto where = [&](const char* key) { return path.empty() ? std::string(key) : path + "." + key; };

    PeftSettings s;
    s.technique = r["name"].get<std::string>();
    const bool techniqueValid = contains(techniqueNames(), s.technique);
    if (techniqueValid && j.is_object()) {
        for (const SettingSpec& spec : settingsSchema()) {
            const auto it = j.find(spec.key);
            if (it == j.end() || it->is_null() || applies(spec, s.technique))
                continue;
            errors.push_back(where(spec.key.c_str()) + ": does not apply to technique '" + s.technique +
                             "' (it is a setting of " + util::joinList(spec.appliesTo) + ")");
        }
    }

    s.targetModules = stringList(r["target_modules"]);
    s.seed = r["seed"].get<uint64_t>();
    s.r = r["r"].get<int64_t>();
    s.loraAlpha = r["lora_alpha"].get<double>();
    s.loraDropout = r["lora_dropout"].get<double>();
    s.useRslora = r["use_rslora"].get<bool>();
    s.useDora = r["use_dora"].get<bool>();
    s.quantBlockSize = r["quant_block_size"].get<int64_t>();
    s.doubleQuant = r["double_quant"].get<bool>();
    s.feedforwardModules = stringList(r["feedforward_modules"]);
    s.adapterSize = r["adapter_size"].get<int64_t>();
    s.adapterPlacement = r["adapter_placement"].get<std::string>();
    s.adapterActivation = r["adapter_activation"].get<std::string>();
    s.numVirtualTokens = r["num_virtual_tokens"].get<int64_t>();
    s.prefixProjection = r["prefix_projection"].get<bool>();
    s.encoderHiddenSize = r["encoder_hidden_size"].get<int64_t>();
    s.encoderType = r["encoder_type"].get<std::string>();
    s.encoderNumLayers = r["encoder_num_layers"].get<int64_t>();
    s.encoderDropout = r["encoder_dropout"].get<double>();
    s.promptInit = r["prompt_init"].get<std::string>();
    s.promptInitText = r["prompt_init_text"].get<std::string>();
    s.trainableLayers = r["trainable_layers"].get<int64_t>();
    s.trainEmbeddings = r["train_embeddings"].get<bool>();
    s.trainLmHead = r["train_lm_head"].get<bool>();
    if (const Technique* own = findTechnique(s.technique))
        for (const SettingSpec& spec : own->ownSettings)
            s.extra[spec.key] = r.at(spec.key);

    // Rules one setting's range cannot say.
    const Technique* t = findTechnique(s.technique);
    if (t && contains(t->settings, "lora_alpha") && s.loraAlpha <= 0)
        errors.push_back(where("lora_alpha") + ": must be a number > 0, got " + r["lora_alpha"].dump());
    if (s.technique == "dora")
        s.useDora = true;
    if (s.technique == "rslora")
        s.useRslora = true;
    if (s.technique == "prompt" && s.promptInit == "text" && s.promptInitText.empty())
        errors.push_back(where("prompt_init_text") + ": required (a non-empty text) when prompt_init is \"text\"");
    return s;
}

nlohmann::json settingsToJson(const PeftSettings& s)
{
    const json all = {{"name", s.technique},
                      {"target_modules", s.targetModules},
                      {"seed", s.seed},
                      {"r", s.r},
                      {"lora_alpha", s.loraAlpha},
                      {"lora_dropout", s.loraDropout},
                      {"use_rslora", s.useRslora},
                      {"use_dora", s.useDora},
                      {"quant_block_size", s.quantBlockSize},
                      {"double_quant", s.doubleQuant},
                      {"feedforward_modules", s.feedforwardModules},
                      {"adapter_size", s.adapterSize},
                      {"adapter_placement", s.adapterPlacement},
                      {"adapter_activation", s.adapterActivation},
                      {"num_virtual_tokens", s.numVirtualTokens},
                      {"prefix_projection", s.prefixProjection},
                      {"encoder_hidden_size", s.encoderHiddenSize},
                      {"encoder_type", s.encoderType},
                      {"encoder_num_layers", s.encoderNumLayers},
                      {"encoder_dropout", s.encoderDropout},
                      {"prompt_init", s.promptInit},
                      {"prompt_init_text", s.promptInitText},
                      {"trainable_layers", s.trainableLayers},
                      {"train_embeddings", s.trainEmbeddings},
                      {"train_lm_head", s.trainLmHead}};
    json out = json::object();
    for (const SettingSpec& spec : settingsSchema())
        if (applies(spec, s.technique))
            out[spec.key] = all.contains(spec.key) ? all.at(spec.key) : s.extra.value(spec.key, spec.defaultValue);
    return out;
}

std::vector<std::string> defaultTargets(const std::string& technique)
{
    const Technique* t = findTechnique(technique);
    return t ? t->defaultTargets : std::vector<std::string>{};
}

} // namespace ft::peft
