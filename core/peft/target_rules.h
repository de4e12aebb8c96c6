// PEFT's rules for target_modules, on names and on the shapes a model's config implies
// (no model needed): a list matches an exact name or a ".name" suffix of the path, one
// string is a full-match regular expression over the path, "all-linear" is every
// projection except the output head. The estimates, the run-config checks and the
// adapter files use these; peft/targets.h applies the same rules to a model's modules.
#pragma once

#include "model/model_config.h"
#include "peft/peft_settings.h"
#include "util/error.h"
#include "util/text.h"

#include <set>
#include <string>
#include <vector>

namespace ft::peft {

// PEFT's rule for one module (path "model.layers.3.self_attn.q_proj", short name "q_proj").
// A regular expression is PCRE2's (util/regex.h: Python's syntax, as PEFT's
// re.fullmatch); one that does not compile, or backtracks past PCRE2's limits, is an
// ft::Error naming target_modules and the pattern.
bool matchesTarget(const std::string& path, const std::string& shortName, const std::vector<std::string>& targets);

// The modules of `all` (anything with a path and a shortName) that match, or an
// ft::Error naming the targets and the names there are.
template <class Module>
std::vector<Module> selectMatching(const std::vector<Module>& all, const std::vector<std::string>& targets)
{
    if (targets.empty())
        fail("no target modules given");
    std::vector<Module> chosen;
    for (const auto& m : all)
        if (matchesTarget(m.path, m.shortName, targets))
            chosen.push_back(m);
    if (chosen.empty()) {
        std::set<std::string> names;
        for (const auto& m : all)
            names.insert(m.shortName);
        fail("target_modules [" + util::joinList(targets) + "] match no module of this model; its projections are: " +
             util::joinList(std::vector<std::string>(names.begin(), names.end())) + " (or \"all-linear\")");
    }
    return chosen;
}

// A projection as the model's shapes give it, without a model: what the estimates count.
struct ProjectionShape {
    std::string path;       // as ProjectionSlot::path
    std::string shortName;
    int64_t layer = -1;
    int64_t in = 0, out = 0;
    bool hasBias = false;
    bool router = false;
};

// The slots projectionSlots() would give for a model of this config, in the same order.
std::vector<ProjectionShape> projectionShapes(const model::ModelConfig& config);
// The matching shapes, with selectSlots()'s rules and errors.
std::vector<ProjectionShape> selectShapes(const model::ModelConfig& config, const std::vector<std::string>& targets);

// settings.targetModules, or the technique's default targets when it is empty (in a
// family with fused projections, q/k/v_proj become qkv_proj and gate/up_proj gate_up_proj).
std::vector<std::string> targetsOrDefault(const PeftSettings& settings, const model::ModelConfig& config);

} // namespace ft::peft
