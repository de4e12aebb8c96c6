// The config.json fields every mixture-of-experts family shares, each under the
// family's own key for the expert count (num_experts; Mixtral: num_local_experts):
// the experts per token, their width, the renormalization of the top-k weights and
// the load-balancing coefficient. Used by arch_qwen3_moe.cpp, arch_mixtral.cpp and
// arch_olmoe.cpp.
#pragma once

#include "model/config_fields.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

namespace ft::model {

// widthKey: the expert MLP width's key (moe_intermediate_size, or intermediate_size
// where the experts are the only MLPs); normDefault: norm_topk_prob's default, or
// normKey nullptr when the family always renormalizes.
inline void parseExperts(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source,
                         const char* countKey, const char* widthKey, const char* normKey, bool normDefault,
                         double auxDefault)
{
    c.numExperts = f.positiveInt(countKey);
    c.numExpertsPerTok = f.positiveInt("num_experts_per_tok");
    if (c.numExpertsPerTok > c.numExperts)
        fail(source + ": num_experts_per_tok (" + std::to_string(c.numExpertsPerTok) + ") exceeds " + countKey + " (" +
             std::to_string(c.numExperts) + ")");
    c.moeIntermediateSize = f.positiveInt(widthKey);
    c.normTopkProb = normKey ? f.boolOr(normKey, normDefault) : true;
    c.routerAuxLossCoef = f.numberOr("router_aux_loss_coef", auxDefault);
    if (c.routerAuxLossCoef < 0)
        fail(source + ": router_aux_loss_coef must not be negative, found " + std::to_string(c.routerAuxLossCoef));
    if (f.numberOr("router_jitter_noise", 0.0) != 0.0)
        fail(source + ": router_jitter_noise " + j["router_jitter_noise"].dump() +
             " is not supported (every released checkpoint ships 0.0)");
}

inline void writeExperts(const ModelConfig& c, nlohmann::json& j, const char* countKey, const char* widthKey,
                         const char* normKey)
{
    j[countKey] = c.numExperts;
    j["num_experts_per_tok"] = c.numExpertsPerTok;
    j[widthKey] = c.moeIntermediateSize;
    if (normKey)
        j[normKey] = c.normTopkProb;
    j["router_aux_loss_coef"] = c.routerAuxLossCoef;
    j["output_router_logits"] = false;
}

} // namespace ft::model
