// LoRA, rsLoRA, DoRA and QLoRA wrappers and their adapter; see lora.h.
#include "peft/lora.h"

#include "peft/adapter_support.h"
#include "peft/config_fields.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ft::peft {

namespace {

bool isHalf(c10::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }

std::shared_ptr<model::DenseLinearImpl> uninitializedDense(int64_t in, int64_t out, bool bias)
{
    model::SkipWeightInit skip;  // every tensor is overwritten right after
    return std::make_shared<model::DenseLinearImpl>(in, out, bias);
}

} // namespace

// ---- LoraLinear ------------------------------------------------------------------

LoraLinearImpl::LoraLinearImpl(model::LinearLayer base, const LoraOptions& o)
    : AdaptedLinearImpl(std::move(base)), m_options(o)
{
    if (o.r < 1)
        fail("LoRA rank r must be at least 1, got " + std::to_string(o.r));
    if (o.dropout < 0.0 || o.dropout >= 1.0)
        fail("LoRA dropout must be in [0, 1), got " + std::to_string(o.dropout));
    m_scaling = o.useRslora ? o.alpha / std::sqrt(double(o.r)) : o.alpha / double(o.r);
    const int64_t in = base_layer->inFeatures(), out = base_layer->outFeatures();
    const c10::Device device = projectionDevice(base_layer);
    lora_A = register_module("lora_A", uninitializedDense(in, o.r, false));
    lora_B = register_module("lora_B", uninitializedDense(o.r, out, false));
    lora_A->to(device, o.dtype);
    lora_B->to(device, o.dtype);
    // PEFT: kaiming_uniform_(a = sqrt(5)): gain sqrt(2 / 6), bound gain * sqrt(3 / in) = 1 / sqrt(in).
    SeededInit(o.seed).uniform(lora_A->weight, 1.0 / std::sqrt(double(in)));
    at::NoGradGuard noGrad;
    lora_B->weight.zero_();
    if (o.useDora)
        lora_magnitude_vector = register_parameter("lora_magnitude_vector",
                                                   rowNorm(projectionWeight(base_layer, o.dtype, "DoRA")));
    train(base_layer->is_training());  // a wrapper put into an eval() model must not start dropping out
}

std::vector<std::pair<std::string, at::Tensor>> LoraLinearImpl::adapterTensors() const
{
    std::vector<std::pair<std::string, at::Tensor>> out = {{"lora_A.weight", lora_A->weight},
                                                           {"lora_B.weight", lora_B->weight}};
    if (lora_magnitude_vector.defined())
        out.emplace_back("lora_magnitude_vector", lora_magnitude_vector);
    return out;
}

at::Tensor LoraLinearImpl::rowNorm(const at::Tensor& w) const
{
    at::Tensor wf = w.to(workType(w.scalar_type()));
    return at::linalg_vector_norm(wf, 2, at::IntArrayRef{1}, /*keepdim=*/false, c10::nullopt).to(m_options.dtype);
}

at::Tensor LoraLinearImpl::forward(const at::Tensor& x)
{
    at::Tensor result = base_layer->forward(x);  // (..., out)
    if (!contributes())
        return result;
    const auto dtype = m_options.dtype;
    at::Tensor h = x.scalar_type() == dtype ? x : x.to(dtype);
    const bool drop = m_options.dropout > 0.0 && is_training();
    at::Tensor hd = drop ? at::dropout(h, m_options.dropout, /*train=*/true) : h;  // (..., in)
    at::Tensor update = lora_B->forward(lora_A->forward(hd));                    // (..., out)
    if (!m_options.useDora)
        return result + (update * m_scaling).to(result.scalar_type());

    at::Tensor w = projectionWeight(base_layer, dtype, "DoRA");  // (out, in), a constant
    at::Tensor norm;                                             // (out,), detached as in PEFT
    {
        at::NoGradGuard noGrad;
        norm = rowNorm(w + m_scaling * at::matmul(lora_B->weight, lora_A->weight));
    }
    at::Tensor g = lora_magnitude_vector / norm;  // (out,)
    at::Tensor baseNoBias;                        // (..., out): W x'
    if (drop) {
        auto* nf4 = base_layer->as<Nf4LinearImpl>();
        baseNoBias = nf4 ? nf4->forwardNoBias(hd) : at::linear(hd, w);
    } else {
        at::Tensor bias = projectionBias(base_layer);
        baseNoBias = (bias.defined() ? result - bias : result).to(dtype);
    }
    return result + ((g - 1) * baseNoBias + g * update * m_scaling).to(result.scalar_type());
}

at::Tensor LoraLinearImpl::deltaWeight(c10::ScalarType dtype) const
{
    at::NoGradGuard noGrad;
    const auto work = workType(dtype);
    return (at::matmul(lora_B->weight.to(work), lora_A->weight.to(work)) * m_scaling).to(dtype);
}

at::Tensor LoraLinearImpl::mergedWeight(c10::ScalarType dtype, const std::string& where) const
{
    at::NoGradGuard noGrad;
    const auto work = workType(dtype);
    at::Tensor merged = projectionWeight(base_layer, work, where) + deltaWeight(work);  // (out, in)
    if (m_options.useDora) {
        at::Tensor norm = at::linalg_vector_norm(merged, 2, at::IntArrayRef{1}, false, c10::nullopt);  // (out,)
        merged = merged * (lora_magnitude_vector.to(work) / norm).unsqueeze(1);
    }
    return merged.to(dtype);
}

bool LoraLinearImpl::undoesMerge(c10::ScalarType baseType) const { return !m_options.useDora && !isHalf(baseType); }

void LoraLinearImpl::undoMerge(model::DenseLinearImpl& base) const
{
    base.weight.sub_(deltaWeight(base.weight.scalar_type()));
}

// ---- LoraAdapter -----------------------------------------------------------------

LoraAdapter::LoraAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
                         std::vector<std::string> targets)
    : LayerAdapter(std::move(name), std::move(settings), std::move(model), std::move(entries)),
      m_targets(std::move(targets))
{
}

nlohmann::json LoraAdapter::configJson() const
{
    const PeftSettings& s = settings();
    nlohmann::json j = {{"r", s.r},
                        {"lora_alpha", s.loraAlpha},
                        {"lora_dropout", s.loraDropout},
                        {"target_modules", m_targets},
                        {"use_rslora", s.useRslora},
                        {"use_dora", s.useDora},
                        {"bias", "none"},
                        {"fan_in_fan_out", false},
                        {"init_lora_weights", true}};
    const bool oneString = m_targets.size() == 1 && (m_targets[0] == "all-linear" ||
                                                     m_targets[0].find_first_of(".*[(|\\^$+?") != std::string::npos);
    if (oneString)
        j["target_modules"] = m_targets[0];  // PEFT writes "all-linear" and a regular expression as one string
    if (s.technique == "qlora")
        j["quantization"] = {{"method", "nf4"}, {"block_size", s.quantBlockSize}, {"double_quant", s.doubleQuant}};
    return j;
}

void LoraAdapter::afterUnload(c10::ScalarType dtype)
{
    if (settings().technique == "qlora")
        dequantizeDecoderProjections(model(), dtype);
}

// ---- applyLora -------------------------------------------------------------------

void checkLoraSettings(const PeftSettings& s)
{
    if (s.r < 1)
        fail("technique.r: the LoRA rank must be at least 1, got " + std::to_string(s.r));
    if (s.loraDropout < 0.0 || s.loraDropout >= 1.0)
        fail("technique.lora_dropout: must be in [0, 1), got " + std::to_string(s.loraDropout));
}

LoraOptions loraOptions(const PeftSettings& s, size_t slotIndex, c10::ScalarType dtype)
{
    LoraOptions o;
    o.r = s.r;
    o.alpha = s.loraAlpha;
    o.dropout = s.loraDropout;
    o.useRslora = s.useRslora;
    o.useDora = s.useDora;
    o.seed = s.seed + slotIndex;
    o.dtype = dtype;
    return o;
}

std::unique_ptr<Adapter> applyLora(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                   const ApplyContext& context)
{
    (void)context;
    PeftSettings s = settings;
    if (technique(s.technique).tuner != "lora")
        fail("applyLora: technique '" + s.technique + "' is not of the LoRA family");
    if (s.technique == "dora")
        s.useDora = true;
    else if (s.technique == "rslora")
        s.useRslora = true;
    checkLoraSettings(s);
    const std::vector<std::string> targets = targetsOrDefault(s, model->config());
    std::vector<ProjectionSlot> slots = selectSlots(model, targets);  // validates before anything changes
    if (s.technique == "qlora")
        quantizeDecoderProjections(model, s.quantBlockSize, s.doubleQuant);

    const auto dtype = adapterTensorOptions(model).dtype().toScalarType();
    std::vector<LayerAdapter::Entry> entries;
    for (size_t i = 0; i < slots.size(); ++i) {
        auto layer = std::make_shared<LoraLinearImpl>(slots[i].get(), loraOptions(s, i, dtype));
        slots[i].set(layer);
        entries.push_back({slots[i], layer});
    }
    s.targetModules = targets;
    return std::make_unique<LoraAdapter>(name, std::move(s), model, std::move(entries), targets);
}

} // namespace ft::peft
