#include "peft/targets.h"

#include "model/moe_block.h"
#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <regex>
#include <set>

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

bool matchesTarget(const std::string& path, const std::string& shortName, const std::vector<std::string>& targets)
{
    if (targets.size() == 1 && targets[0] == "all-linear")
        return shortName != "lm_head";
    // One string that is not a plain module name is a regular expression over the
    // whole path, as PEFT treats a str target_modules.
    if (targets.size() == 1 && targets[0].find_first_of(".*[(|\\^$+?") != std::string::npos)
        return std::regex_match(path, std::regex(targets[0]));
    for (const auto& t : targets) {
        if (t == path || t == shortName)
            return true;
        if (path.size() > t.size() && path.compare(path.size() - t.size(), t.size(), t) == 0 &&
            path[path.size() - t.size() - 1] == '.')
            return true;
    }
    return false;
}

bool matchesTarget(const ProjectionSlot& slot, const std::vector<std::string>& targets)
{
    return matchesTarget(slot.path, slot.shortName, targets);
}

namespace {

// The modules of `all` that match, or an ft::Error naming the targets and the names there are.
template <class Module>
std::vector<Module> selectMatching(const std::vector<Module>& all, const std::vector<std::string>& targets)
{
    if (targets.empty())
        fail("no target modules given");
    std::vector<Module> chosen;
    try {
        for (const auto& m : all)
            if (matchesTarget(m.path, m.shortName, targets))
                chosen.push_back(m);
    } catch (const std::regex_error& e) {
        fail("target_modules '" + targets[0] + "' is not a valid regular expression: " + e.what());
    }
    if (chosen.empty()) {
        std::set<std::string> names;
        for (const auto& m : all)
            names.insert(m.shortName);
        fail("target_modules [" + util::joinList(targets) + "] match no module of this model; its projections are: " +
             util::joinList(std::vector<std::string>(names.begin(), names.end())) + " (or \"all-linear\")");
    }
    return chosen;
}

} // namespace

std::vector<ProjectionSlot> selectSlots(model::CausalLM& model, const std::vector<std::string>& targets)
{
    return selectMatching(projectionSlots(model), targets);
}

std::vector<ProjectionShape> projectionShapes(const model::ModelConfig& c)
{
    const int64_t C = c.hiddenSize, F = c.intermediateSize, QD = c.numAttentionHeads * c.headDim,
                  KD = c.numKeyValueHeads * c.headDim;
    struct Kind {
        const char* sublayer;
        const char* name;
        int64_t in, out;
        bool bias;
    };
    const std::vector<Kind> kinds =
        model::archTraits(c.arch).fusedProjections
            ? std::vector<Kind>{{"self_attn", "qkv_proj", C, QD + 2 * KD, c.attentionBias},
                                {"self_attn", "o_proj", QD, C, c.attentionOutBias},
                                {"mlp", "gate_up_proj", C, 2 * F, c.mlpBias},
                                {"mlp", "down_proj", F, C, c.mlpBias}}
            : std::vector<Kind>{{"self_attn", "q_proj", C, QD, c.attentionBias},
                                {"self_attn", "k_proj", C, KD, c.attentionBias},
                                {"self_attn", "v_proj", C, KD, c.attentionBias},
                                {"self_attn", "o_proj", QD, C, c.attentionOutBias},
                                {"mlp", "gate_proj", C, F, c.mlpBias},
                                {"mlp", "up_proj", C, F, c.mlpBias},
                                {"mlp", "down_proj", F, C, c.mlpBias}};
    const bool w123 = model::archTraits(c.arch).mixtralExpertNames;
    const Kind expertKinds[] = {{"", w123 ? "w1" : "gate_proj", C, c.moeIntermediateSize, false},
                                {"", w123 ? "w3" : "up_proj", C, c.moeIntermediateSize, false},
                                {"", w123 ? "w2" : "down_proj", c.moeIntermediateSize, C, false}};
    std::vector<ProjectionShape> shapes;
    for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
        const std::string prefix = model::multimodalModulePath(c, "model.layers." + std::to_string(i) + ".");
        for (const Kind& k : kinds) {
            if (std::string_view(k.sublayer) == "mlp" && c.layerIsSparse(i))
                continue;
            shapes.push_back({prefix + k.sublayer + "." + k.name, k.name, i, k.in, k.out, k.bias});
        }
        if (!c.layerIsSparse(i))
            continue;
        const std::string block = prefix + model::archTraits(c.arch).moeBlockName + ".";
        ProjectionShape router{block + "gate", "gate", i, C, c.numExperts, false};
        router.router = true;
        shapes.push_back(router);
        for (int64_t e = 0; e < c.numExperts; ++e)
            for (const Kind& k : expertKinds)
                shapes.push_back({block + "experts." + std::to_string(e) + "." + k.name, k.name, i, k.in, k.out, false});
    }
    if (!c.tieWordEmbeddings)
        shapes.push_back({"lm_head", "lm_head", -1, C, c.vocabSize, false});
    return shapes;
}

std::vector<ProjectionShape> selectShapes(const model::ModelConfig& config, const std::vector<std::string>& targets)
{
    return selectMatching(projectionShapes(config), targets);
}

std::vector<std::string> targetsOrDefault(const PeftSettings& settings, const model::ModelConfig& config)
{
    if (!settings.targetModules.empty())
        return settings.targetModules;
    std::vector<std::string> targets = defaultTargets(settings.technique);
    if (!model::archTraits(config.arch).fusedProjections)
        return targets;
    // A family with fused projections (Phi-3) has one module where the defaults name
    // two or three, as PEFT's own default for phi3 is qkv_proj.
    std::vector<std::string> fused;
    for (const std::string& t : targets) {
        const std::string name = (t == "q_proj" || t == "k_proj" || t == "v_proj") ? "qkv_proj"
                                 : (t == "gate_proj" || t == "up_proj")            ? "gate_up_proj"
                                                                                    : t;
        if (std::find(fused.begin(), fused.end(), name) == fused.end())
            fused.push_back(name);
    }
    return fused;
}

void freezeAll(torch::nn::Module& module)
{
    for (auto& p : module.parameters())
        p.set_requires_grad(false);
}

} // namespace ft::peft
