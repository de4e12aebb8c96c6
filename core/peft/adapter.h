// One technique applied to one model under a name ("default"): the modules it added
// are already in the model (wrappers in projection slots, virtual tokens, biases);
// this object knows where they are, which tensors train, how they are saved under
// PEFT's key names, and how they merge. Several adapters can sit on one base model
// at once, each enabled or disabled, and the base weights are never copied.
// Not here: files (adapter_io.h), choosing a technique by name (registry.h).
#pragma once

#include "peft/peft_settings.h"
#include "model/llama.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::tok {
class Tokenizer;
}

namespace ft::peft {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// PEFT key of a module path: "model.layers.0.self_attn.q_proj" + ".lora_A.weight"
// -> "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".
std::string peftKey(const std::string& modulePath, const std::string& leaf);

class Adapter {
public:
    Adapter(std::string name, PeftSettings settings) : m_name(std::move(name)), m_settings(std::move(settings)) {}
    virtual ~Adapter() = default;
    Adapter(const Adapter&) = delete;
    Adapter& operator=(const Adapter&) = delete;

    const std::string& name() const { return m_name; }
    const PeftSettings& settings() const { return m_settings; }

    // PEFT's peft_type: LORA (also DoRA, rsLoRA, QLoRA), IA3, PREFIX_TUNING,
    // PROMPT_TUNING, P_TUNING; ours: BOTTLENECK_ADAPTER, BITFIT; FREEZE and FULL
    // save a whole model instead of an adapter.
    virtual std::string peftType() const = 0;
    virtual bool savesFullModel() const { return false; }

    // The tensors that train, named by their place in the model's module tree.
    virtual NamedTensors trainableParameters() = 0;
    // What adapter_model.safetensors holds, under PEFT's key names (peftKey).
    virtual NamedTensors stateDict() = 0;
    // The inverse of stateDict(). Every missing key, unexpected key and shape
    // mismatch is collected and reported in one ft::Error that names `source`.
    virtual void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) = 0;
    // adapter_config.json fields specific to the technique (r, lora_alpha, ...);
    // the common ones (peft_type, task_type, base_model_name_or_path) come from adapter_io.
    virtual nlohmann::json configJson() const = 0;

    // A disabled adapter leaves the model computing exactly what the base computes.
    virtual void setEnabled(bool on) = 0;
    bool enabled() const { return m_enabled; }

    // Merge folds the update into the base weights (after a finiteness check) and
    // disables the adapter's own path; unmerge restores the base weights.
    virtual bool canMerge() const { return false; }
    virtual void merge();
    virtual void unmerge();
    bool merged() const { return m_merged; }
    // Merges and puts plain dense layers back where the wrappers were (PEFT's
    // merge_and_unload), so the model can be saved as an ordinary model folder.
    // Quantized bases are dequantized to `dtype`. The adapter is unusable afterwards.
    virtual void mergeAndUnload(c10::ScalarType dtype);

    // Frobenius norm per module, for `adapter info`.
    virtual std::vector<std::pair<std::string, double>> moduleNorms();

protected:
    bool m_enabled = true;
    bool m_merged = false;

private:
    std::string m_name;
    PeftSettings m_settings;
};

// While alive, every given adapter is disabled (the reference model of DPO, PPO
// and GRPO: the base with its adapters off); their previous states come back after.
class AdaptersDisabled {
public:
    explicit AdaptersDisabled(std::vector<Adapter*> adapters);
    ~AdaptersDisabled();
    AdaptersDisabled(const AdaptersDisabled&) = delete;
    AdaptersDisabled& operator=(const AdaptersDisabled&) = delete;

private:
    std::vector<std::pair<Adapter*, bool>> m_previous;
};

// What a technique may need besides the model and its settings.
struct ApplyContext {
    const tok::Tokenizer* tokenizer = nullptr;  // prompt tuning initialized from text
    // Every adapter tensor is loaded right after (loadAdapter): initializations that
    // cost (PiSSA's SVD) are skipped, only the shapes matter.
    bool tensorsFollow = false;
};

} // namespace ft::peft
