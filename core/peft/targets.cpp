#include "peft/targets.h"

#include "model/moe_block.h"
#include "util/error.h"

#include <algorithm>

namespace ft::peft {

std::vector<ProjectionSlot> projectionSlots(model::CausalLM& model)
{
    std::vector<ProjectionSlot> slots;
    auto& layers = model->model;
    for (int64_t i = 0; i < int64_t(layers->layers->size()); ++i) {
        auto& layer = layers->layer(i);
        model::Attention attn = layer.self_attn;
        model::Mlp mlp = layer.mlp;
        // PEFT's module path: inside a multimodal model the layers are model.language_model.layers.
        const std::string prefix = model::multimodalModulePath(model->config(), "model.layers." + std::to_string(i) + ".");
        for (const std::string& name : attn->projectionNames())
            slots.push_back({prefix + "self_attn." + name, name, i, [attn, name] { return attn->projection(name); },
                             [attn, name](model::LinearLayer l) mutable { attn->setProjection(name, std::move(l)); }});
        if (mlp) {
            for (const std::string& name : mlp->projectionNames())
                slots.push_back({prefix + "mlp." + name, name, i, [mlp, name] { return mlp->projection(name); },
                                 [mlp, name](model::LinearLayer l) mutable { mlp->setProjection(name, std::move(l)); }});
            continue;
        }
        // A sparse layer: its router ("gate", as PEFT names it), then each expert's projections.
        std::shared_ptr<model::MoeBlockImpl> moe = layer.moe;
        const std::string block = prefix + model::archTraits(model->config().arch).moeBlockName + ".";
        ProjectionSlot router{block + "gate", "gate", i, [moe] { return moe->gate; },
                              [moe](model::LinearLayer l) mutable { moe->setRouter(std::move(l)); }};
        router.router = true;
        slots.push_back(std::move(router));
        for (int64_t e = 0; e < moe->expertCount(); ++e) {
            model::ExpertMlp expert(std::dynamic_pointer_cast<model::ExpertMlpImpl>(moe->experts->ptr(e)));
            for (const std::string& name : expert->projectionNames())
                slots.push_back({block + "experts." + std::to_string(e) + "." + name, name, i,
                                 [expert, name] { return expert->projection(name); },
                                 [expert, name](model::LinearLayer l) mutable { expert->setProjection(name, std::move(l)); }});
        }
    }
    if (model->lm_head) {
        model::CausalLM m = model;
        slots.push_back({"lm_head", "lm_head", -1, [m] { return m->lm_head; },
                         [m](model::LinearLayer l) mutable { m->lm_head = m->replace_module("lm_head", std::move(l)); }});
    }
    return slots;
}

bool matchesTarget(const ProjectionSlot& slot, const std::vector<std::string>& targets)
{
    return matchesTarget(slot.path, slot.shortName, targets);
}

std::vector<ProjectionSlot> selectSlots(model::CausalLM& model, const std::vector<std::string>& targets)
{
    return selectMatching(projectionSlots(model), targets);
}

void freezeAll(torch::nn::Module& module)
{
    for (auto& p : module.parameters())
        p.set_requires_grad(false);
}

} // namespace ft::peft
