// The numeric core of the on-policy objectives (PPO, GRPO, RLVR) as pure tensor
// functions: masked statistics, generalized advantage estimation, group-normalized
// advantages, the k3 KL estimate, PPO's clipped policy and value losses, entropy, and
// the KL-penalty coefficient controller. Shape legend: B batch (sequences), T time
// (generated tokens), V vocabulary, N completions.
// Not a trainer: no sampling, reward functions, models or optimizer steps live here.
//
// Masks are (B, T) of any dtype, nonzero = a generated token that counts. Tensors may be
// CPU or CUDA in any float dtype; computation is fp32 at least (fp64 stays fp64) and
// results come back in that dtype. For finite inputs no value or gradient is NaN/Inf.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace ft::align {

// Mean of x over the entries where mask != 0; a scalar, 0 when the mask is empty.
// x and mask have the same shape.
at::Tensor maskedMean(const at::Tensor& x, const at::Tensor& mask);

// (x - mean) / sqrt(var + 1e-8) over the mask != 0 entries, var unbiased (n / (n - 1)),
// as TRL's masked_whiten; shiftMean = false adds the mean back. Entries where the mask
// is 0 come back as 0. Where TRL raises for fewer than two entries, the variance is
// taken as 0 here (a single entry whitens to 0, an empty mask gives all zeros).
at::Tensor maskedWhiten(const at::Tensor& x, const at::Tensor& mask, bool shiftMean = true);

struct GaeResult {
    at::Tensor advantages;  // (B, T), 0 where mask is 0
    at::Tensor returns;     // (B, T) advantages + values, 0 where mask is 0
};

// Generalized advantage estimation (Schulman et al. 2016). rewards, values, mask (B, T).
//   δ_t = r_t + γ V_{t+1} - V_t,   A_t = δ_t + γλ A_{t+1}
// where t+1 means the row's next token with mask != 0 (masked positions are skipped, not
// treated as steps), and after a row's last valid token V = 0 and A = 0 (the episode
// ends). Runs without gradient; results are detached.
GaeResult generalizedAdvantages(const at::Tensor& rewards, const at::Tensor& values, const at::Tensor& mask,
                                double gamma, double lambda);

// GRPO's group-normalized advantages, as in TRL's GRPOTrainer. rewards (N,) with
// N = prompts × groupSize, laid out group by group (the groupSize completions of prompt
// 0 first). Returns (N,): r - mean_group, divided by (std_group + eps) when scaleByStd,
// std unbiased. groupSize 1 gives zeros; a group whose rewards are all equal gives exact
// zeros (the group's first reward is subtracted before averaging, so no rounding residue
// is left to be blown up by 1/eps). Throws unless N is a multiple of groupSize >= 1.
at::Tensor groupAdvantages(const at::Tensor& rewards, int64_t groupSize, bool scaleByStd = true, double eps = 1e-4);

// Schulman's k3 estimator of KL(policy || ref) per token: with d = ref - logp,
// e^d - d - 1 (computed as expm1(d) - d, so it is >= 0 and exactly 0 when equal).
// d is clamped to [-20, 20] before exp so a runaway log-ratio gives a large finite
// penalty rather than Inf (and beyond the clamp no gradient). Same shape as the inputs.
at::Tensor k3KlEstimate(const at::Tensor& logp, const at::Tensor& refLogp);

struct ClippedPolicyLoss {
    at::Tensor perToken;      // (B, T) -min(ρA, clip(ρ)A), 0 where mask is 0
    at::Tensor clipFraction;  // scalar, share of valid tokens where the clipped branch won, detached
    at::Tensor ratio;         // (B, T) ρ, detached
};

// PPO's clipped surrogate (Schulman et al. 2017). logp, oldLogp, mask (B, T);
// advantages (B, T), or (B, 1) broadcast over the row (GRPO). ρ = exp(logp - oldLogp),
// the log-ratio clamped to [-20, 20] first (same reason as k3); clip range
// [1 - clipLow, 1 + clipHigh] (DAPO's asymmetric "clip-higher" when they differ).
// clipFraction counts tokens where clip(ρ)A < ρA strictly. Reduction is the caller's
// (maskedMean for per-token averaging, or per sequence for GRPO).
ClippedPolicyLoss clippedPolicyLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& advantages,
                                    const at::Tensor& mask, double clipLow, double clipHigh);

// PPO's clipped value loss per token, (B, T):
//   0.5 max((v - R)^2, (clamp(v, old - clip, old + clip) - R)^2), 0 where mask is 0.
at::Tensor clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues, const at::Tensor& returns,
                            const at::Tensor& mask, double clip);

// Entropy of the softmax of each position's logits: (B, T, V) -> (B, T), via
// log_softmax (a logsumexp) so large logits do not overflow.
at::Tensor entropyFromLogits(const at::Tensor& logits);

// The KL-penalty coefficient of RLHF with PPO. Fixed, or adaptive as in Ziegler et al.
// 2019 (TRL's AdaptiveKLController): after each batch, with n the number of samples it
// held,
//   e = clip(currentKl / target - 1, -0.2, 0.2);  coef *= 1 + e n / horizon.
class KlController {
public:
    static KlController fixed(double coef);
    static KlController adaptive(double initCoef, double target, int64_t horizon);

    double coef() const { return m_coef; }
    bool isAdaptive() const { return m_adaptive; }

    // No-op for a fixed controller. Throws when currentKl is not finite or nSteps < 0.
    void update(double currentKl, int64_t nSteps);

    // {"kind": "fixed"|"adaptive", "coef", and for adaptive "target", "horizon"}, so a
    // checkpoint resumes with the coefficient reached, not the initial one.
    nlohmann::json toJson() const;
    static KlController fromJson(const nlohmann::json& j);

private:
    KlController() = default;

    bool m_adaptive = false;
    double m_coef = 0;
    double m_target = 0;    // adaptive only
    int64_t m_horizon = 0;  // adaptive only
};

} // namespace ft::align
