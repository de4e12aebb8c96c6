// The mixture-of-experts feed-forward of Mixtral, Qwen3-MoE and OLMoE (transformers'
// *SparseMoeBlock): a router (`gate`, hidden -> experts, no bias) scores every token,
// softmax in fp32, the top k experts are kept (their weights renormalized to sum to 1
// where the family does: Mixtral always, Qwen3-MoE and OLMoE per norm_topk_prob), and
// each token's output is the weighted sum of its k experts' gated MLPs. Tokens are
// grouped by expert, so each expert runs once on exactly the tokens routed to it.
// Parameter names follow the checkpoints: mlp.gate, mlp.experts.3.gate_proj (Mixtral:
// block_sparse_moe.gate, block_sparse_moe.experts.3.w1).
//
// The load-balancing loss (Switch Transformer, as transformers' load_balancing_loss_func)
// is computed from router logits a RouterLog collects while the trainer asks for them.
#pragma once

#include "model/llama.h"
#include "model/model_config.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <memory>
#include <string>
#include <vector>

namespace ft::model {

// Router logits of the sparse layers of one forward, collected only while `collecting`
// (the trainer's forward under gradient), with the mask of real tokens.
struct RouterLog {
    bool collecting = false;
    at::Tensor currentMask;          // (N,) of the forward under way: 1 = real token, 0 = padding
    std::vector<at::Tensor> logits;  // per sparse layer and forward: (N, E), N = B * T
    std::vector<at::Tensor> masks;   // the (N,) mask of each logits entry
    // With gradient checkpointing the logits come from first passes without gradient.
    // The loss is then trained through the recomputations in backward: it is linear in
    // each layer's summed probabilities S_l once the routing counts are fixed,
    // loss = E / N^2 * sum_l sum_e load_e * S_l,e, so each recomputed sparse layer adds
    // recomputeWeight times its term (activation_checkpoint.h's addCheckpointLoss).
    double recomputeWeight = 0;      // 0: nothing to add
    at::Tensor expertLoad;           // (E,) (token, slot) pairs routed to each expert, every layer
    double pooledTokens = 0;         // N: real tokens times collected layers
    void clear()
    {
        currentMask = at::Tensor();
        logits.clear();
        masks.clear();
        recomputeWeight = 0;
        expertLoad = at::Tensor();
        pooledTokens = 0;
    }
};

// One expert: down(act(gate(x)) * up(x)), its projections under the family's names.
class ExpertMlpImpl : public torch::nn::Module {
public:
    ExpertMlpImpl(const ModelConfig& c, bool mixtralNames);
    at::Tensor forward(const at::Tensor& x);  // (n, C) -> (n, C)
    void setProjection(const std::string& name, LinearLayer layer);
    LinearLayer projection(const std::string& name) const;
    std::vector<std::string> projectionNames() const;  // gate, up, down (w1, w3, w2)
    LinearLayer gate, up, down;

private:
    std::string m_names[3];
    bool m_geluTanh = false;
};
TORCH_MODULE(ExpertMlp);

class MoeBlockImpl : public torch::nn::Module {
public:
    MoeBlockImpl(const ModelConfig& c, std::shared_ptr<RouterLog> log);
    at::Tensor forward(const at::Tensor& x);  // (B, T, C) -> (B, T, C)
    ExpertMlpImpl& expert(int64_t e) { return *experts[e]->as<ExpertMlpImpl>(); }
    int64_t expertCount() const { return int64_t(experts->size()); }
    // The router as a projection slot ("gate"), so "all-linear" adapts it as PEFT does.
    void setRouter(LinearLayer layer);

    LinearLayer gate;  // router (E, C)
    torch::nn::ModuleList experts{nullptr};

private:
    int64_t m_topK;
    bool m_normTopk;
    std::shared_ptr<RouterLog> m_log;
};
TORCH_MODULE(MoeBlock);

// transformers' load_balancing_loss_func over the concatenated layers: with p the
// softmax of the logits, f_e the share of (token, slot) pairs routed to expert e and
// P_e the mean router probability of e, both over the real tokens of every layer,
// E * sum_e f_e * P_e summed over the k slots: k for perfectly balanced routing, up to
// k * E when every token goes to the same experts.
at::Tensor loadBalancingLoss(const std::vector<at::Tensor>& logits, const std::vector<at::Tensor>& masks, int64_t topK);
// The routing counts that loss holds fixed: (E,) pairs per expert over the real tokens of
// every block of `logits`, and their number of real tokens (the pooled N).
std::pair<at::Tensor, double> expertLoadOf(const std::vector<at::Tensor>& logits, const std::vector<at::Tensor>& masks,
                                           int64_t topK);

} // namespace ft::model
