#include "peft/selective.h"

#include "peft/targets.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

namespace ft::peft {

namespace {
bool isVirtualTokens(const std::string& name) { return name.rfind("virtual_tokens_", 0) == 0; }
} // namespace

SelectiveAdapter::SelectiveAdapter(std::string name, PeftSettings settings, model::CausalLM model, NamedTensors trainable,
                                   std::string peftType)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_trainable(std::move(trainable)),
      m_peftType(std::move(peftType))
{
}

NamedTensors SelectiveAdapter::stateDict()
{
    NamedTensors out;
    for (auto& p : m_model->named_parameters())
        if (!isVirtualTokens(p.key()))
            out.emplace_back(p.key(), p.value().detach());
    return out;
}

void SelectiveAdapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
{
    TensorLoadPlan plan(tensors, source);
    for (auto& [key, dest] : stateDict())
        plan.expect(key, dest);
    plan.apply();
}

nlohmann::json SelectiveAdapter::configJson() const
{
    nlohmann::json j = {{"peft_type", m_peftType}, {"task_type", "CAUSAL_LM"}};
    if (m_peftType == "FREEZE") {
        j["trainable_layers"] = settings().trainableLayers;
        j["train_embeddings"] = settings().trainEmbeddings;
        j["train_lm_head"] = settings().trainLmHead;
    }
    return j;
}

void SelectiveAdapter::setEnabled(bool on)
{
    if (!on)
        fail("technique '" + settings().technique +
             "' trains the model's own weights, so there is no separate base to switch back to; "
             "use a second copy of the base model as the reference instead of disabling it");
}

std::unique_ptr<Adapter> applyFreeze(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                     const ApplyContext& context)
{
    (void)context;
    const int64_t layers = model->config().numHiddenLayers, n = settings.trainableLayers;
    if (n < 0 || n > layers)
        fail("freeze: trainable_layers must be between 0 and the model's " + std::to_string(layers) +
             " layers, found " + std::to_string(n));
    if (n == 0 && !settings.trainEmbeddings && !settings.trainLmHead)
        fail("freeze: nothing would train (trainable_layers is 0 and neither embeddings nor lm_head are trained)");
    const bool tied = !model->lm_head;
    NamedTensors trainable;
    for (auto& p : model->named_parameters()) {
        const std::string& key = p.key();
        bool train = false;
        for (int64_t i = layers - n; i < layers && !train; ++i)
            train = key.rfind("model.layers." + std::to_string(i) + ".", 0) == 0;
        if (key == "model.embed_tokens.weight")
            train = settings.trainEmbeddings || (tied && settings.trainLmHead);  // tied: one tensor for both
        if (key.rfind("lm_head.", 0) == 0)
            train = settings.trainLmHead;
        if (train)
            trainable.emplace_back(key, p.value());
    }
    freezeAll(*model);
    for (auto& [_, t] : trainable)
        t.set_requires_grad(true);
    return std::make_unique<SelectiveAdapter>(name, settings, model, std::move(trainable), "FREEZE");
}

std::unique_ptr<Adapter> applyFull(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                   const ApplyContext& context)
{
    (void)context;
    NamedTensors trainable;
    for (auto& p : model->named_parameters())
        if (!isVirtualTokens(p.key())) {
            p.value().set_requires_grad(true);
            trainable.emplace_back(p.key(), p.value());
        }
    return std::make_unique<SelectiveAdapter>(name, settings, model, std::move(trainable), "FULL");
}

} // namespace ft::peft
