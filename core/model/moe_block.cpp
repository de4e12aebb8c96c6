#include "model/moe_block.h"

#include "model/activation_checkpoint.h"
#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::model {

// ---- Expert ----------------------------------------------------------------------

ExpertMlpImpl::ExpertMlpImpl(const ModelConfig& c, bool mixtralNames)
    : m_names{mixtralNames ? "w1" : "gate_proj", mixtralNames ? "w3" : "up_proj", mixtralNames ? "w2" : "down_proj"},
      m_geluTanh(c.hiddenAct == "gelu_pytorch_tanh")
{
    const int64_t C = c.hiddenSize, F = c.moeIntermediateSize;
    gate = register_module(m_names[0], std::make_shared<DenseLinearImpl>(C, F, false));
    up = register_module(m_names[1], std::make_shared<DenseLinearImpl>(C, F, false));
    down = register_module(m_names[2], std::make_shared<DenseLinearImpl>(F, C, false));
}

at::Tensor ExpertMlpImpl::forward(const at::Tensor& x)
{
    at::Tensor g = gate->forward(x);
    return down->forward((m_geluTanh ? at::gelu(g, "tanh") : at::silu(g)) * up->forward(x));
}

namespace {
LinearLayer* expertSlot(ExpertMlpImpl& e, const std::string (&names)[3], const std::string& name)
{
    LinearLayer* slots[3] = {&e.gate, &e.up, &e.down};
    for (int i = 0; i < 3; ++i)
        if (name == names[i])
            return slots[i];
    fail("this expert has no projection named '" + name + "'");
}
} // namespace

void ExpertMlpImpl::setProjection(const std::string& name, LinearLayer layer)
{
    LinearLayer* slot = expertSlot(*this, m_names, name);
    *slot = replace_module(name, layer);
}

LinearLayer ExpertMlpImpl::projection(const std::string& name) const
{
    return *expertSlot(*const_cast<ExpertMlpImpl*>(this), m_names, name);
}

std::vector<std::string> ExpertMlpImpl::projectionNames() const { return {m_names[0], m_names[1], m_names[2]}; }

// ---- Sparse block ----------------------------------------------------------------

MoeBlockImpl::MoeBlockImpl(const ModelConfig& c, std::shared_ptr<RouterLog> log)
    : m_topK(c.numExpertsPerTok), m_normTopk(c.normTopkProb), m_log(std::move(log))
{
    gate = register_module("gate", std::make_shared<DenseLinearImpl>(c.hiddenSize, c.numExperts, false));
    experts = register_module("experts", torch::nn::ModuleList());
    const bool mixtralNames = archTraits(c.arch).mixtralExpertNames;
    for (int64_t e = 0; e < c.numExperts; ++e)
        experts->push_back(ExpertMlp(c, mixtralNames));
}

void MoeBlockImpl::setRouter(LinearLayer layer) { gate = replace_module("gate", std::move(layer)); }

at::Tensor MoeBlockImpl::forward(const at::Tensor& x)
{
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), n = b * t, k = m_topK, e = expertCount();
    const at::Tensor tokens = x.reshape({n, c});
    const at::Tensor logits = gate->forward(tokens);  // (N, E)
    // Collected under gradient, or in a checkpointed block's first pass (its gradient then
    // comes from the recomputation below); never for evaluations or reference passes.
    if (m_log && m_log->collecting && (at::GradMode::is_enabled() || inCheckpointFirstPass())) {
        m_log->logits.push_back(logits);
        m_log->masks.push_back(m_log->currentMask);
    }
    if (m_log && m_log->recomputeWeight > 0 && inCheckpointRecompute() && m_log->pooledTokens > 0) {
        const at::Tensor probs = at::softmax(logits, -1, at::kFloat);  // (N, E)
        const at::Tensor mask = m_log->currentMask.defined() ? m_log->currentMask.to(probs.options())
                                                             : at::ones({n}, probs.options());
        const at::Tensor summed = (probs * mask.view({-1, 1})).sum(0);  // S_l (E,)
        const double scale = m_log->recomputeWeight * double(e) / (m_log->pooledTokens * m_log->pooledTokens);
        addCheckpointLoss((summed * m_log->expertLoad.to(summed.device())).sum() * scale);
    }
    // Routing in fp32, as transformers: softmax over all experts, then the top k.
    auto [weights, chosen] = at::softmax(logits, -1, at::kFloat).topk(k, -1);  // (N, k), (N, k)
    if (m_normTopk)
        weights = weights / weights.sum(-1, /*keepdim=*/true);
    weights = weights.to(x.scalar_type());

    // Each (token, slot) pair sorted by its expert: expert i's pairs are one contiguous run.
    const at::Tensor flatExpert = chosen.reshape({-1});                                // (N*k,)
    const at::Tensor order = at::argsort(flatExpert, /*stable=*/true, /*dim=*/0, /*descending=*/false);
    const at::Tensor tokenOf = at::floor_divide(order, k);                            // (N*k,) token of each pair
    const at::Tensor counts = at::bincount(flatExpert, {}, e).to(at::kCPU);           // one device sync
    const at::Tensor routed = tokens.index_select(0, tokenOf);                        // (N*k, C)
    const at::Tensor routedWeight = weights.reshape({-1}).index_select(0, order).unsqueeze(1);  // (N*k, 1)
    std::vector<at::Tensor> outputs;
    int64_t offset = 0;
    const int64_t* count = counts.data_ptr<int64_t>();
    for (int64_t i = 0; i < e; ++i) {
        if (count[i] == 0)
            continue;
        outputs.push_back(expert(i).forward(routed.narrow(0, offset, count[i])) *
                          routedWeight.narrow(0, offset, count[i]));
        offset += count[i];
    }
    const at::Tensor combined = at::zeros_like(tokens).index_add(0, tokenOf, at::cat(outputs, 0));  // (N, C)
    return combined.view({b, t, c});
}

// ---- Load balancing ------------------------------------------------------------------

std::pair<at::Tensor, double> expertLoadOf(const std::vector<at::Tensor>& logits, const std::vector<at::Tensor>& masks,
                                           int64_t topK)
{
    at::Tensor load;
    double tokens = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        const at::Tensor chosen = std::get<1>(logits[i].detach().to(at::kFloat).topk(topK, -1));   // (N, k)
        const at::Tensor mask = masks[i].defined() ? masks[i].to(at::kFloat) : at::ones({logits[i].size(0)});
        const at::Tensor counts =
            (at::one_hot(chosen, logits[i].size(1)).to(at::kFloat) * mask.to(chosen.device()).view({-1, 1, 1})).sum(at::IntArrayRef{0, 1});
        load = load.defined() ? load + counts : counts;
        tokens += mask.sum().item<double>();
    }
    return {load, tokens};
}

at::Tensor loadBalancingLoss(const std::vector<at::Tensor>& logits, const std::vector<at::Tensor>& masks, int64_t topK)
{
    if (logits.empty())
        return {};
    if (masks.size() != logits.size())
        fail("loadBalancingLoss: " + std::to_string(logits.size()) + " logit blocks but " + std::to_string(masks.size()) +
             " masks");
    const at::Tensor all = at::cat(logits, 0);  // (L*N, E)
    const int64_t experts = all.size(1);
    const at::Tensor probs = at::softmax(all, -1, at::kFloat);                                // (L*N, E)
    const at::Tensor chosen = std::get<1>(probs.topk(topK, -1));                              // (L*N, k)
    const at::Tensor slots = at::one_hot(chosen, experts).to(at::kFloat);                     // (L*N, k, E)
    std::vector<at::Tensor> parts;
    for (size_t i = 0; i < logits.size(); ++i)
        parts.push_back(masks[i].defined() ? masks[i].to(probs.options())
                                           : at::ones({logits[i].size(0)}, probs.options()));
    const at::Tensor mask = at::cat(parts, 0);  // (L*N,)
    const at::Tensor real = mask.sum().clamp_min(1.0);
    const at::Tensor tokensPerExpert = (slots * mask.view({-1, 1, 1})).sum(0) / real;   // (k, E)
    const at::Tensor probPerExpert = (probs * mask.view({-1, 1})).sum(0) / real;        // (E,)
    return (tokensPerExpert * probPerExpert.unsqueeze(0)).sum() * double(experts);
}

} // namespace ft::model
