// The numeric core of the preference objectives (DPO and its variants, ORPO's odds
// ratio, KTO, Bradley–Terry reward modelling) as pure tensor functions: log-probs in,
// per-example losses and rewards out. Shape legend: B batch, T time, V vocabulary,
// P preference pairs, N examples.
// Not a trainer: no models, batching, reference-model forwards or reductions over the
// batch live here (the caller averages `losses`); these are the formulas, tested
// against closed forms in tests/test_align_losses.cpp.
//
// Every function accepts CPU or CUDA tensors of any float dtype and computes in fp32
// at least (fp64 stays fp64); results come back in that compute dtype. For finite
// inputs no value or gradient is NaN/Inf: log σ is at::log_sigmoid, 1 - σ(x) is σ(-x),
// log(1 - e^a) is taken on the stable branch.
#pragma once

#include <ATen/core/Tensor.h>

namespace ft::align {

// Summed log-probability of the labelled tokens of each row: logits (B, T, V), labels
// (B, T) int64 aligned with the inputs, -100 = ignored; shifted here, so logits[:, t]
// scores labels[:, t+1] (the same convention as train/lm_loss.h).
// Returns (B,) in fp32 (fp64 when the logits are fp64); *tokenCounts, when given,
// receives (B,) int64 counts of the scored tokens (divide for the length-averaged
// log-probs that IPO, SimPO and ORPO take).
at::Tensor sequenceLogps(const at::Tensor& logits, const at::Tensor& labels, at::Tensor* tokenCounts = nullptr);

struct PreferenceLossResult {
    at::Tensor losses;           // (P,) per pair, differentiable
    at::Tensor chosenRewards;    // (P,) detached, for logging (reward margins, accuracies)
    at::Tensor rejectedRewards;  // (P,) detached
};

// DPO (Rafailov et al. 2023) with label smoothing (conservative DPO, cDPO) when ε > 0.
// All four inputs are (P,) summed sequence log-probs; the reference ones are the frozen
// model's (computed without gradient by the caller).
//   h = (pc - rc) - (pr - rr)
//   loss = -(1 - ε) log σ(βh) - ε log σ(-βh)   (ε = 0: DPO; at h = 0 the loss is log 2)
//   rewards = β(pc - rc), β(pr - rr)
// Throws ft::Error unless beta > 0 ("objective.beta") and 0 <= ε < 0.5
// ("objective.label_smoothing").
PreferenceLossResult dpoLoss(const at::Tensor& policyChosen, const at::Tensor& policyRejected,
                             const at::Tensor& refChosen, const at::Tensor& refRejected, double beta,
                             double labelSmoothing = 0);

// IPO (Azar et al. 2023): loss = (h - 1/(2β))^2 with h as in dpoLoss. As in TRL's
// DPOTrainer with loss_type="ipo", the caller passes length-AVERAGED log-probs (sum /
// token count from sequenceLogps), not sums; the regression target 1/(2β) assumes that
// scale. Rewards β(pc - rc), β(pr - rr). Throws unless beta > 0.
PreferenceLossResult ipoLoss(const at::Tensor& policyChosen, const at::Tensor& policyRejected,
                             const at::Tensor& refChosen, const at::Tensor& refRejected, double beta);

// SimPO (Meng et al. 2024): reference-free and length-normalized. avgChosen / avgRejected
// are (P,) average per-token log-probs of the policy.
//   z = β(avgC - avgR) - γ;  loss = -(1 - ε) log σ(z) - ε log σ(-z)
//   rewards = β avgC, β avgR
// γ is the paper's target reward margin, in reward units (the same units as the
// rewards above; the paper uses 0.5 ... 1.6). TRL's CPOTrainer `simpo_gamma` is this
// same γ. The authors' own scripts (princeton-nlp/SimPO) configure `gamma_beta_ratio`
// = γ/β instead; multiply that by β to get the γ taken here.
// Throws unless beta > 0, γ finite and 0 <= ε < 0.5.
PreferenceLossResult simpoLoss(const at::Tensor& avgChosen, const at::Tensor& avgRejected, double beta, double gamma,
                               double labelSmoothing = 0);

struct OddsRatioResult {
    at::Tensor losses;        // (P,) -log σ(log odds ratio), differentiable
    at::Tensor logOddsRatio;  // (P,) log odds(chosen) - log odds(rejected), detached for logging
};

// ORPO's odds-ratio term (Hong et al. 2024). avgChosen / avgRejected are (P,) average
// per-token log-probs a < 0 of the policy; odds(y) = p / (1 - p) with p = e^a, so
//   log odds = a - log(1 - e^a)
// with log(1 - e^a) = log(-expm1(a)) for a > -ln 2 and log1p(-e^a) otherwise; a is
// clamped to <= -1e-6 first (a probability of 1 has infinite odds).
// losses = -log σ(log odds_c - log odds_r). ORPO adds λ times this to the SFT loss on the
// chosen responses; that term and λ are the caller's.
OddsRatioResult orpoOddsRatioLoss(const at::Tensor& avgChosen, const at::Tensor& avgRejected);

struct KtoLossResult {
    at::Tensor losses;   // (N,) per example, weighted, differentiable
    at::Tensor rewards;  // (N,) β(policy - ref), detached
};

// KTO (Ethayarajh et al. 2024), as in TRL's KTOTrainer. policyLogps / refLogps (N,)
// summed log-probs of each completion; desirable (N,) bool; klEstimate a scalar tensor,
// the batch estimate of KL(policy || ref) (TRL: mean log-ratio on mismatched pairs).
//   r = policy - ref;  z = max(klEstimate, 0), detached
//   desirable:    λ_D (1 - σ(β(r - z)))
//   undesirable:  λ_U (1 - σ(β(z - r)))
// Throws unless beta > 0 and both weights are > 0 ("objective.desirable_weight",
// "objective.undesirable_weight").
KtoLossResult ktoLoss(const at::Tensor& policyLogps, const at::Tensor& refLogps, const at::Tensor& desirable,
                      const at::Tensor& klEstimate, double beta, double desirableWeight = 1,
                      double undesirableWeight = 1);

// Bradley–Terry reward-model loss per pair, -log σ(sc - sr - margin), with the optional
// margin of Llama 2's reward model (Touvron et al. 2023). Scores (P,); margin (P,) or
// undefined (= 0). Returns (P,).
at::Tensor bradleyTerryLoss(const at::Tensor& chosenScores, const at::Tensor& rejectedScores,
                            const at::Tensor& margin = {});

} // namespace ft::align
