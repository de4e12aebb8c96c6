// BitFit (Ben Zaken et al. 2021): only bias terms train. Every target projection is
// wrapped with a trained bias of its own, starting at the base's bias (zeros where the
// architecture has none); when enabled the base is computed without its own bias and
// the wrapper's is added, so the base's bias stays as it was for disabling and for the
// reference model. Merging writes the trained bias into the base (adding bias tensors
// where there were none, and turning on the config's bias flags for the whole
// projection group, so an exported config.json declares what the weights hold).
// PEFT has no such type; our format: adapter_config.json peft_type "BITFIT",
// target_modules; adapter_model.safetensors base_model.model.<projection>.bias (out,).
// Not here: choosing targets (targets.h).
#pragma once

#include "peft/adapter.h"
#include "peft/targets.h"

namespace ft::peft {

class BitFitLinearImpl : public model::LinearLayerImpl {
public:
    BitFitLinearImpl(model::LinearLayer base, const at::TensorOptions& opts);
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., out)
    int64_t inFeatures() const override { return base_layer->inFeatures(); }
    int64_t outFeatures() const override { return base_layer->outFeatures(); }
    // The bias the base adds on its own (zeros when it has none), as it was when wrapped.
    const at::Tensor& baseBias() const { return m_baseBias; }

    model::LinearLayer base_layer;
    at::Tensor bias;  // (out,)
    bool enabled = true;
    bool merged = false;  // the base holds `bias`; forward is the base's

private:
    at::Tensor m_baseBias;  // (out,)
};

class BitFitAdapter : public Adapter {
public:
    struct Site {
        ProjectionSlot slot;
        std::shared_ptr<BitFitLinearImpl> wrapper;
    };
    BitFitAdapter(std::string name, PeftSettings settings, model::CausalLM model, std::vector<Site> sites);
    std::string peftType() const override { return "BITFIT"; }
    NamedTensors trainableParameters() override;
    NamedTensors stateDict() override;
    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override;
    nlohmann::json configJson() const override;
    void setEnabled(bool on) override;

    bool canMerge() const override;
    void merge() override;
    void unmerge() override;
    // Merges and puts the base projections back in their slots. Fails, changing
    // nothing, when Hugging Face's config for this architecture cannot declare a merged
    // bias (lm_head always; o_proj and MLP biases in Qwen2; any in Mistral).
    void mergeAndUnload(c10::ScalarType dtype) override;

private:
    void requireUsable() const;
    model::CausalLM m_model;
    std::vector<Site> m_sites;
    bool m_unloaded = false;
    // Undo record of merge().
    std::vector<std::pair<std::shared_ptr<model::DenseLinearImpl>, at::Tensor>> m_savedBiases;  // original biases
    std::vector<std::shared_ptr<model::DenseLinearImpl>> m_addedBiases;                         // biases merge created
    bool m_savedAttentionBias = false, m_savedAttentionOutBias = false, m_savedMlpBias = false;
};

std::unique_ptr<Adapter> applyBitFit(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                     const ApplyContext& context);

} // namespace ft::peft
