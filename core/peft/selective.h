// Selective fine-tuning without added modules: "freeze" trains only the last N decoder
// layers (plus the input embeddings and the output head when asked), "full" trains
// every parameter. Nothing wraps the model, so there is no separate base to fall back
// to: these techniques cannot be disabled or merged, and they save a whole model
// under its own Hugging Face tensor names ("model.layers.0.mlp.up_proj.weight").
// Not here: the optimizer's parameter groups (train/), writing model folders (model_io).
#pragma once

#include "peft/adapter.h"

namespace ft::peft {

class SelectiveAdapter : public Adapter {
public:
    // `trainable`: the parameters that train, by their names in the model.
    SelectiveAdapter(std::string name, PeftSettings settings, model::CausalLM model, NamedTensors trainable,
                     std::string peftType);
    std::string peftType() const override { return m_peftType; }  // FREEZE or FULL
    bool savesFullModel() const override { return true; }
    NamedTensors trainableParameters() override { return m_trainable; }
    // Every parameter of the model (trained or frozen) under its own name; virtual
    // tokens of prompt-learning adapters left out.
    NamedTensors stateDict() override;
    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override;
    nlohmann::json configJson() const override;
    // Enabling is a no-op; disabling fails: the trained weights are the model's own.
    void setEnabled(bool on) override;

private:
    model::CausalLM m_model;
    NamedTensors m_trainable;
    std::string m_peftType;
};

// Both freeze everything else (requires_grad = false) and make their parameters train.
std::unique_ptr<Adapter> applyFreeze(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                     const ApplyContext& context);
std::unique_ptr<Adapter> applyFull(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                   const ApplyContext& context);

} // namespace ft::peft
