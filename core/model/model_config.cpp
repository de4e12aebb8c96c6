#include "model/model_config.h"

#include "io/json_file.h"
#include "model/config_fields.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace ft::model {

namespace {

using nlohmann::json;

Arch detectArch(const json& j, const std::string& source)
{
    std::string seen;
    if (j.contains("architectures") && j["architectures"].is_array()) {
        for (const auto& a : j["architectures"]) {
            if (!a.is_string())
                continue;
            if (Arch arch = archFromString(a.get<std::string>()); arch != Arch::Unknown)
                return arch;
            seen = a.get<std::string>();
        }
    }
    if (j.contains("model_type") && j["model_type"].is_string()) {
        if (Arch arch = archFromString(j["model_type"].get<std::string>()); arch != Arch::Unknown)
            return arch;
        if (seen.empty())
            seen = j["model_type"].get<std::string>();
    }
    fail(source + ": unsupported architecture '" + (seen.empty() ? "(none given)" : seen) +
         "'; supported: " + supportedArchList());
}

// One list of per-pair factors of a longrope rope_scaling.
std::vector<double> factorList(const json& s, const char* key, const std::string& where)
{
    if (!s.contains(key) || !s[key].is_array() || s[key].empty())
        fail(where + ": '" + key + "' must be a non-empty list of numbers");
    std::vector<double> out;
    for (const auto& v : s[key]) {
        if (!v.is_number() || v.get<double>() <= 0)
            fail(where + ": '" + key + "' holds " + v.dump() + "; expected positive numbers");
        out.push_back(v.get<double>());
    }
    return out;
}

// Phi-3's LongRoPE, as transformers' _compute_longrope_parameters reads it: with a
// top-level original_max_position_embeddings the factor is max / original (rope_scaling's
// own factor is then unused), and the attention factor defaults to
// sqrt(1 + ln(factor) / ln(original)).
void parseLongRope(const json& j, const json& s, const FieldReader& f, const std::string& source,
                   const std::string& where, int64_t maxPositions, RopeScaling& r)
{
    r.shortFactor = factorList(s, "short_factor", where);
    r.longFactor = factorList(s, "long_factor", where);
    if (r.shortFactor.size() != r.longFactor.size())
        fail(where + ": 'short_factor' and 'long_factor' differ in length (" + std::to_string(r.shortFactor.size()) +
             " and " + std::to_string(r.longFactor.size()) + ")");
    if (j.contains("original_max_position_embeddings") && !j["original_max_position_embeddings"].is_null()) {
        r.originalMaxPositionEmbeddings = FieldReader(j, source).positiveInt("original_max_position_embeddings");
        r.factor = double(maxPositions) / double(r.originalMaxPositionEmbeddings);
    } else {
        r.originalMaxPositionEmbeddings = maxPositions;
        r.factor = f.numberOr("factor", 1.0);
    }
    r.attentionFactor = f.numberOr("attention_factor", 0.0);
    if (r.attentionFactor <= 0)
        r.attentionFactor = r.factor <= 1.0 ? 1.0
                                            : std::sqrt(1.0 + std::log(r.factor) /
                                                                  std::log(double(r.originalMaxPositionEmbeddings)));
}

RopeScaling parseRopeScaling(const json& j, const std::string& source, int64_t maxPositions)
{
    RopeScaling r;
    if (!j.contains("rope_scaling") || j["rope_scaling"].is_null())
        return r;
    const json& s = j["rope_scaling"];
    if (!s.is_object())
        fail(source + ": field 'rope_scaling' must be an object or null");
    const std::string where = source + " rope_scaling";
    FieldReader f(s, where);
    r.type = f.stringOr("rope_type", f.stringOr("type", ""));
    if (r.type == "default") {
        r.type.clear();
        return r;
    }
    if (r.type == "su")  // Phi-3's early name for longrope
        r.type = "longrope";
    if (r.type == "longrope") {
        parseLongRope(j, s, f, source, where, maxPositions, r);
        return r;
    }
    if (r.type != "linear" && r.type != "llama3")
        fail(where + ": rope type '" + r.type + "' is not supported; supported: linear, llama3, longrope (or null)");
    r.factor = f.numberOr("factor", 0.0);
    if (r.factor <= 0)
        fail(where + ": 'factor' must be a positive number");
    if (r.type == "llama3") {
        r.lowFreqFactor = f.numberOr("low_freq_factor", 1.0);
        r.highFreqFactor = f.numberOr("high_freq_factor", 4.0);
        r.originalMaxPositionEmbeddings = f.positiveIntOr("original_max_position_embeddings", 8192);
        if (r.highFreqFactor <= r.lowFreqFactor)
            fail(where + ": 'high_freq_factor' must exceed 'low_freq_factor'");
    }
    return r;
}

// A token id field that may hold one id or a list of ids (eos_token_id in Llama 3).
std::vector<int64_t> tokenIds(const json& j, const char* key, int64_t fallback, const std::string& source)
{
    if (!j.contains(key) || j[key].is_null())
        return {fallback};
    if (j[key].is_number_integer())
        return {j[key].get<int64_t>()};
    std::vector<int64_t> ids;
    if (j[key].is_array())
        for (const auto& v : j[key])
            if (v.is_number_integer())
                ids.push_back(v.get<int64_t>());
    if (ids.empty() || ids.size() != j[key].size())
        fail(source + ": field '" + key + "' must be an integer or a list of integers, found " + j[key].dump());
    return ids;
}

} // namespace

namespace {
// One layer's parameters, with `experts` of its experts counted in a sparse layer; in
// double (T) when parsing checks that the int64_t counts cannot overflow.
template <typename T = int64_t>
T layerParameters(const ModelConfig& c, int64_t i, bool activeOnly)
{
    const T C = T(c.hiddenSize), H = T(c.numAttentionHeads), K = T(c.numKeyValueHeads), D = T(c.headDim);
    const T q = C * H * D + (c.attentionBias ? H * D : 0);
    const T kv = 2 * (C * K * D + (c.attentionBias ? K * D : 0));
    const T o = H * D * C + (c.attentionOutBias ? C : 0);
    T mlp = 3 * C * T(c.intermediateSize) + (c.mlpBias ? 2 * T(c.intermediateSize) + C : 0);
    if (c.layerIsSparse(i))  // the router and the experts' gate, up and down
        mlp = C * T(c.numExperts) + T(activeOnly ? c.numExpertsPerTok : c.numExperts) * 3 * C * T(c.moeIntermediateSize);
    const ArchTraits t = archTraits(c.arch);
    const T qkNorm = t.qkNorm ? 2 * D : (t.olmo2Block || t.wholeQkNorm) ? (H + K) * D : 0;
    const T norms = (t.gemmaBlock ? 4 : 2) * C;
    return q + kv + o + mlp + norms + qkNorm;
}
} // namespace

int64_t ModelConfig::layerParameterCount(int64_t i) const { return layerParameters(*this, i, false); }

int64_t ModelConfig::parameterCount() const
{
    int64_t layers = 0;
    for (int64_t i = 0; i < numHiddenLayers; ++i)
        layers += layerParameters(*this, i, false);
    return vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2) + layers + hiddenSize;
}

int64_t ModelConfig::activeParameterCount() const
{
    int64_t layers = 0;
    for (int64_t i = 0; i < numHiddenLayers; ++i)
        layers += layerParameters(*this, i, true);
    return vocabSize * hiddenSize * (tieWordEmbeddings ? 1 : 2) + layers + hiddenSize;
}

namespace {

constexpr int64_t kMaxLayers = 65536;

// A text model's config.json (or a multimodal one's text_config over its defaults).
ModelConfig parseTextConfig(const json& j, const std::string& source)
{
    FieldReader f(j, source);
    ModelConfig c;
    c.arch = detectArch(j, source);
    c.vocabSize = f.positiveInt("vocab_size");
    c.hiddenSize = f.positiveInt("hidden_size");
    c.intermediateSize = f.positiveInt("intermediate_size");
    c.numHiddenLayers = f.positiveInt("num_hidden_layers");
    if (c.numHiddenLayers > kMaxLayers)  // per-layer lists are built from it
        fail(source + ": num_hidden_layers " + std::to_string(c.numHiddenLayers) + " is more than the " +
             std::to_string(kMaxLayers) + " supported");
    c.numAttentionHeads = f.positiveInt("num_attention_heads");
    c.numKeyValueHeads = f.positiveIntOr("num_key_value_heads", c.numAttentionHeads);
    if (c.numAttentionHeads % c.numKeyValueHeads != 0)
        fail(source + ": num_attention_heads (" + std::to_string(c.numAttentionHeads) +
             ") must be a multiple of num_key_value_heads (" + std::to_string(c.numKeyValueHeads) + ")");
    if (!j.contains("head_dim") && c.hiddenSize % c.numAttentionHeads != 0)
        fail(source + ": hidden_size (" + std::to_string(c.hiddenSize) + ") is not divisible by num_attention_heads (" +
             std::to_string(c.numAttentionHeads) + ") and no head_dim is given");
    c.headDim = f.positiveIntOr("head_dim", c.hiddenSize / c.numAttentionHeads);
    if (c.headDim % 2 != 0)
        fail(source + ": head_dim must be even for rotary embeddings, found " + std::to_string(c.headDim));
    c.maxPositionEmbeddings = f.positiveIntOr("max_position_embeddings", 2048);
    c.rmsNormEps = f.numberOr("rms_norm_eps", 1e-6);
    c.ropeTheta = f.numberOr("rope_theta", 10000.0);
    c.ropeScaling = parseRopeScaling(j, source, c.maxPositionEmbeddings);
    c.tieWordEmbeddings = f.boolOr("tie_word_embeddings", false);
    c.mlpBias = f.boolOr("mlp_bias", false);
    c.hiddenAct = f.stringOr("hidden_act", "silu");
    architecture(c.arch).parseFields(j, f, c, source);  // the family's own fields (biases, windows, activation)
    if (c.partialRotaryFactor <= 0 || c.partialRotaryFactor > 1 || c.rotaryDim() < 2 || c.rotaryDim() % 2 != 0)
        fail(source + ": partial_rotary_factor " + std::to_string(c.partialRotaryFactor) + " leaves " +
             std::to_string(c.rotaryDim()) + " of head_dim " + std::to_string(c.headDim) +
             " to rotate; it must be an even number of at least 2");
    if (c.ropeScaling.type == "longrope" && int64_t(c.ropeScaling.shortFactor.size()) != c.rotaryDim() / 2)
        fail(source + " rope_scaling: 'short_factor' and 'long_factor' must hold one factor per rotated pair (" +
             std::to_string(c.rotaryDim() / 2) + "), found " + std::to_string(c.ropeScaling.shortFactor.size()));
    if (c.hiddenAct != "silu" && c.hiddenAct != "gelu_pytorch_tanh")
        fail(source + ": hidden_act '" + c.hiddenAct + "' is not supported; supported: silu, gelu_pytorch_tanh");
    // Every count (ModelConfig::parameterCount) must fit int64_t: checked in double.
    double total = double(c.vocabSize) * double(c.hiddenSize) * 2 + double(c.hiddenSize);
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        total += layerParameters<double>(c, i, false);
    if (total > 0x1p50)
        fail(source + ": its sizes describe a model of more than 2^50 parameters (hidden_size " +
             std::to_string(c.hiddenSize) + ", num_hidden_layers " + std::to_string(c.numHiddenLayers) + "); none is that large");
    c.torchDtype = f.stringOr("torch_dtype", "float32");
    c.bosTokenId = tokenIds(j, "bos_token_id", 1, source).front();
    c.eosTokenIds = tokenIds(j, "eos_token_id", 2, source);
    c.eosTokenId = c.eosTokenIds.front();
    return c;
}

// The family of a multimodal wrapper named by architectures[] or model_type; nullptr for
// any other config.json.
const Architecture* multimodalOf(const json& j)
{
    if (j.contains("architectures") && j["architectures"].is_array())
        for (const auto& a : j["architectures"])
            if (a.is_string())
                if (const Architecture* arch = multimodalArchitecture(a.get<std::string>()))
                    return arch;
    if (j.contains("model_type") && j["model_type"].is_string())
        return multimodalArchitecture(j["model_type"].get<std::string>());
    return nullptr;
}

// The text part: text_config over the family's defaults; the token ids and dtype the
// wrapper states for the whole model fill in what text_config leaves out.
ModelConfig parseMultimodal(const json& j, const Architecture& arch, const std::string& source)
{
    const MultimodalWrapper& w = *arch.multimodal;
    if (!j.contains("text_config") || !j["text_config"].is_object())
        fail(source + ": a " + w.className + " folder needs a 'text_config' object describing its language model");
    json text = w.textDefaults();
    for (const auto& [key, value] : j["text_config"].items())
        text[key] = value;
    for (const char* key : {"bos_token_id", "eos_token_id", "torch_dtype", "tie_word_embeddings"})
        if (j.contains(key) && !j["text_config"].contains(key))
            text[key] = j[key];
    text["model_type"] = arch.modelType;
    text.erase("architectures");
    ModelConfig c = parseTextConfig(text, source + " text_config");
    c.multimodalType = w.modelType;
    return c;
}

} // namespace

ModelConfig parseModelConfig(const json& j, const std::string& source)
{
    if (!j.is_object())
        fail(source + ": expected a JSON object");
    if (const Architecture* arch = multimodalOf(j))
        return parseMultimodal(j, *arch, source);
    return parseTextConfig(j, source);
}

std::string multimodalModulePath(const ModelConfig& c, const std::string& path)
{
    if (c.isMultimodal() && path.rfind("model.", 0) == 0)
        return "model.language_model." + path.substr(6);
    return path;
}

ModelConfig readModelConfig(const std::string& configJsonPath)
{
    return parseModelConfig(io::readJsonFile(configJsonPath), configJsonPath);
}

nlohmann::json modelConfigToJson(const ModelConfig& c)
{
    json j;
    j["architectures"] = json::array({archClassName(c.arch)});
    j["model_type"] = archName(c.arch);
    j["vocab_size"] = c.vocabSize;
    j["hidden_size"] = c.hiddenSize;
    j["intermediate_size"] = c.intermediateSize;
    j["num_hidden_layers"] = c.numHiddenLayers;
    j["num_attention_heads"] = c.numAttentionHeads;
    j["num_key_value_heads"] = c.numKeyValueHeads;
    j["head_dim"] = c.headDim;
    j["max_position_embeddings"] = c.maxPositionEmbeddings;
    j["rms_norm_eps"] = c.rmsNormEps;
    j["rope_theta"] = c.ropeTheta;
    if (c.ropeScaling.type.empty()) {
        j["rope_scaling"] = nullptr;
    } else {
        json s{{"rope_type", c.ropeScaling.type}, {"factor", c.ropeScaling.factor}};
        if (c.ropeScaling.type == "longrope") {
            // Phi-3's spelling: the lists and the attention factor here, the original
            // length at the top level (the factor follows from it).
            s = json{{"type", "longrope"}, {"short_factor", c.ropeScaling.shortFactor},
                     {"long_factor", c.ropeScaling.longFactor}, {"attention_factor", c.ropeScaling.attentionFactor}};
            j["original_max_position_embeddings"] = c.ropeScaling.originalMaxPositionEmbeddings;
        }
        if (c.ropeScaling.type == "llama3") {
            s["low_freq_factor"] = c.ropeScaling.lowFreqFactor;
            s["high_freq_factor"] = c.ropeScaling.highFreqFactor;
            s["original_max_position_embeddings"] = c.ropeScaling.originalMaxPositionEmbeddings;
        }
        j["rope_scaling"] = s;
    }
    j["tie_word_embeddings"] = c.tieWordEmbeddings;
    j["mlp_bias"] = c.mlpBias;
    architecture(c.arch).writeFields(c, j);
    j["hidden_act"] = c.hiddenAct;
    j["torch_dtype"] = c.torchDtype;
    j["bos_token_id"] = c.bosTokenId;
    if (c.eosTokenIds.size() > 1)
        j["eos_token_id"] = c.eosTokenIds;
    else
        j["eos_token_id"] = c.eosTokenId;
    j["initializer_range"] = 0.02;
    return j;
}

} // namespace ft::model
