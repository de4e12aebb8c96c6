#include "peft/targets.h"

#include "util/error.h"
#include "util/text.h"

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
    const Kind kinds[] = {{"self_attn", "q_proj", C, QD, c.attentionBias},   {"self_attn", "k_proj", C, KD, c.attentionBias},
                          {"self_attn", "v_proj", C, KD, c.attentionBias},   {"self_attn", "o_proj", QD, C, c.attentionOutBias},
                          {"mlp", "gate_proj", C, F, c.mlpBias},             {"mlp", "up_proj", C, F, c.mlpBias},
                          {"mlp", "down_proj", F, C, c.mlpBias}};
    std::vector<ProjectionShape> shapes;
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        for (const Kind& k : kinds)
            shapes.push_back({"model.layers." + std::to_string(i) + "." + k.sublayer + "." + k.name, k.name, i, k.in,
                              k.out, k.bias});
    if (!c.tieWordEmbeddings)
        shapes.push_back({"lm_head", "lm_head", -1, C, c.vocabSize, false});
    return shapes;
}

std::vector<ProjectionShape> selectShapes(const model::ModelConfig& config, const std::vector<std::string>& targets)
{
    return selectMatching(projectionShapes(config), targets);
}

std::vector<std::string> targetsOrDefault(const PeftSettings& settings)
{
    return settings.targetModules.empty() ? defaultTargets(settings.technique) : settings.targetModules;
}

void freezeAll(torch::nn::Module& module)
{
    for (auto& p : module.parameters())
        p.set_requires_grad(false);
}

} // namespace ft::peft
