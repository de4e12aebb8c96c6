#include "peft/target_rules.h"

#include "model/architecture.h"
#include "util/regex.h"

#include <algorithm>
#include <string_view>

namespace ft::peft {

bool matchesTarget(const std::string& path, const std::string& shortName, const std::vector<std::string>& targets)
{
    if (targets.size() == 1 && targets[0] == "all-linear")
        return shortName != "lm_head";
    // One string that is not a plain module name is a regular expression over the
    // whole path, as PEFT treats a str target_modules.
    if (targets.size() == 1 && targets[0].find_first_of(".*[(|\\^$+?") != std::string::npos)
        return util::Regex(targets[0], "target_modules").fullMatch(path);
    for (const auto& t : targets) {
        if (t == path || t == shortName)
            return true;
        if (path.size() > t.size() && path.compare(path.size() - t.size(), t.size(), t) == 0 &&
            path[path.size() - t.size() - 1] == '.')
            return true;
    }
    return false;
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

} // namespace ft::peft
