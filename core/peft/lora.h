// LoRA and its variants as wrappers around a projection: LoRA (Hu et al. 2021),
// rsLoRA scaling (alpha / sqrt(r)), DoRA (Liu et al. 2024, magnitude and direction)
// and QLoRA (LoRA on top of NF4 base projections). Numerics follow PEFT
// (tuners/lora/layer.py, dora.py) so adapters move between PEFT and this engine.
// Not here: file I/O (adapter_io.h), choosing a technique by name (registry.h).
//
// Shape legend: r rank, in / out the wrapped projection's features.
#pragma once

#include "peft/adapted_linear.h"
#include "peft/layer_adapter.h"
#include "peft/nf4.h"

namespace ft::peft {

struct LoraOptions {
    int64_t r = 8;
    double alpha = 16.0;
    double dropout = 0.0;  // on the adapter's input path only, in training mode
    bool useRslora = false;
    bool useDora = false;
    uint64_t seed = 0;                   // lora_A's initialization (drawn on the CPU, see SeededInit)
    c10::ScalarType dtype = at::kFloat;  // of lora_A, lora_B, lora_magnitude_vector
};

// y = base(x) + s * B(A(dropout(x))), s = alpha / r (rsLoRA: alpha / sqrt(r)).
// DoRA, as PEFT: with n = ||W + s B A||_row (detached from the graph, DoRA paper 4.3)
// and g = magnitude / n, y = base(x) + (g - 1) * (W x') + g * s * B(A(x')), x' the
// dropped-out input (x' = x outside training, where W x is taken as base(x) - bias).
// At initialization B = 0 and magnitude = ||W||_row, so y equals base(x) exactly.
// Merging (AdaptedLinearImpl) writes W + s B A, or for DoRA magnitude * (W + s B A) /
// ||W + s B A||_row; LoRA on an fp32/fp64 dense base unmerges by subtracting the
// update again (exact up to rounding, |dW| <= a few ulp of |W| + |s B A|); DoRA, NF4
// and fp16/bf16 bases get back a copy kept at merge time.
class LoraLinearImpl : public AdaptedLinearImpl {
public:
    LoraLinearImpl(model::LinearLayer base, const LoraOptions& options);
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., out)
    // "lora_A.weight", "lora_B.weight", and for DoRA "lora_magnitude_vector" (no
    // ".weight": PEFT's save_and_load strips it)
    std::vector<std::pair<std::string, at::Tensor>> adapterTensors() const override;
    bool canMerge() const override { return true; }

    double scaling() const { return m_scaling; }
    const LoraOptions& options() const { return m_options; }
    // The update the adapter adds to W, (out, in) in `dtype`, outside autograd: s * B @ A.
    virtual at::Tensor deltaWeight(c10::ScalarType dtype) const;
    at::Tensor mergedWeight(c10::ScalarType dtype, const std::string& where) const override;

    std::shared_ptr<model::DenseLinearImpl> lora_A;  // weight (r, in), Kaiming-uniform(a = sqrt(5))
    std::shared_ptr<model::DenseLinearImpl> lora_B;  // weight (out, r), zeros
    at::Tensor lora_magnitude_vector;                // (out,) DoRA only, else undefined

protected:
    c10::ScalarType quantizedMergeType() const override { return workType(m_options.dtype); }
    bool undoesMerge(c10::ScalarType baseType) const override;
    void undoMerge(model::DenseLinearImpl& base) const override;

private:
    at::Tensor rowNorm(const at::Tensor& w) const;  // (out, in) -> (out,) in the magnitude's dtype

    LoraOptions m_options;
    double m_scaling;
};
using LoraLinear = std::shared_ptr<LoraLinearImpl>;

// One LoRA-family adapter on a model: its wrappers and where they sit.
class LoraAdapter : public LayerAdapter {
public:
    LoraAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Entry> entries,
                std::vector<std::string> targets);

    std::string peftType() const override { return "LORA"; }
    // r, lora_alpha, lora_dropout, target_modules, use_rslora, use_dora, bias "none",
    // fan_in_fan_out false, init_lora_weights true; for QLoRA also our own extension
    // "quantization": {"method": "nf4", "block_size": 64, "double_quant": true}, which
    // PEFT ignores (there the base model's config carries the quantization).
    nlohmann::json configJson() const override;
    // The wrapper of entry i.
    LoraLinearImpl& layer(size_t i) const { return static_cast<LoraLinearImpl&>(*entries().at(i).layer); }

protected:
    void afterUnload(c10::ScalarType dtype) override;  // QLoRA: the projections it quantized without adapting

private:
    std::vector<std::string> m_targets;
};

// An ft::Error naming technique.r / technique.lora_dropout when they are out of range.
void checkLoraSettings(const PeftSettings& settings);
// The options of the i-th adapted slot: rank, alpha, dropout, rsLoRA and DoRA from the
// settings, lora_A seeded with seed + i, tensors in `dtype`.
LoraOptions loraOptions(const PeftSettings& settings, size_t slotIndex, c10::ScalarType dtype);

// Applies technique lora, dora (forces useDora), rslora (forces useRslora) or qlora
// (first every decoder projection becomes NF4 with settings.quantBlockSize and
// doubleQuant, then LoRA on the targets). Targets: settings.targetModules, or
// defaultTargets(technique) when empty. The adapter's tensors are fp32 (fp64 for an
// fp64 model; adapterTensorOptions); lora_A of the i-th adapted slot is seeded with seed + i.
// Does not freeze anything: the registry freezes the model and then makes
// trainableParameters() require grad.
std::unique_ptr<Adapter> applyLora(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                   const ApplyContext& context);
// PiSSA (pissa.cpp): LoRA started from the principal singular vectors of each weight.
std::unique_ptr<Adapter> applyPissa(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                    const ApplyContext& context);

} // namespace ft::peft
