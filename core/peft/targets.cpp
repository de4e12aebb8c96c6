#include "peft/targets.h"

#include "util/error.h"

#include <regex>
#include <set>

namespace ft::peft {

std::vector<ProjectionSlot> projectionSlots(model::CausalLM& model)
{
    static const char* const kAttention[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
    static const char* const kMlp[] = {"gate_proj", "up_proj", "down_proj"};
    std::vector<ProjectionSlot> slots;
    auto& layers = model->model;
    for (int64_t i = 0; i < int64_t(layers->layers->size()); ++i) {
        auto& layer = layers->layer(i);
        model::Attention attn = layer.self_attn;
        model::Mlp mlp = layer.mlp;
        const std::string prefix = "model.layers." + std::to_string(i) + ".";
        for (const char* name : kAttention)
            slots.push_back({prefix + "self_attn." + name, name, i, [attn, n = std::string(name)] { return attn->projection(n); },
                             [attn, n = std::string(name)](model::LinearLayer l) mutable { attn->setProjection(n, std::move(l)); }});
        for (const char* name : kMlp)
            slots.push_back({prefix + "mlp." + name, name, i, [mlp, n = std::string(name)] { return mlp->projection(n); },
                             [mlp, n = std::string(name)](model::LinearLayer l) mutable { mlp->setProjection(n, std::move(l)); }});
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
    if (targets.size() == 1 && targets[0] == "all-linear")
        return slot.shortName != "lm_head";
    // One string that is not a plain module name is a regular expression over the
    // whole path, as PEFT treats a str target_modules.
    if (targets.size() == 1 && targets[0].find_first_of(".*[(|\\^$+?") != std::string::npos)
        return std::regex_match(slot.path, std::regex(targets[0]));
    for (const auto& t : targets) {
        if (t == slot.path || t == slot.shortName)
            return true;
        if (slot.path.size() > t.size() && slot.path.compare(slot.path.size() - t.size(), t.size(), t) == 0 &&
            slot.path[slot.path.size() - t.size() - 1] == '.')
            return true;
    }
    return false;
}

std::vector<ProjectionSlot> selectSlots(model::CausalLM& model, const std::vector<std::string>& targets)
{
    if (targets.empty())
        fail("no target modules given");
    std::vector<ProjectionSlot> all = projectionSlots(model), chosen;
    try {
        for (auto& s : all)
            if (matchesTarget(s, targets))
                chosen.push_back(s);
    } catch (const std::regex_error& e) {
        fail("target_modules '" + targets[0] + "' is not a valid regular expression: " + e.what());
    }
    if (chosen.empty()) {
        std::set<std::string> names;
        for (auto& s : all)
            names.insert(s.shortName);
        std::string list, given;
        for (auto& n : names)
            list += (list.empty() ? "" : ", ") + n;
        for (auto& t : targets)
            given += (given.empty() ? "" : ", ") + t;
        fail("target_modules [" + given + "] match no module of this model; its projections are: " + list +
             " (or \"all-linear\")");
    }
    return chosen;
}

void freezeAll(torch::nn::Module& module)
{
    for (auto& p : module.parameters())
        p.set_requires_grad(false);
}

} // namespace ft::peft
