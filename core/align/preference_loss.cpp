#include "align/preference_loss.h"

#include "align/tensor_checks.h"
#include "util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace ft::align {

namespace {

constexpr int64_t kIgnoreIndex = -100;

// fp64 stays fp64; every other dtype (bf16, fp16, fp32) is computed in fp32.
void requireBeta(double beta)
{
    if (!(beta > 0) || !std::isfinite(beta))
        fail("objective.beta must be > 0 (got " + util::formatNumber(beta) + ")");
}

void requireLabelSmoothing(double eps)
{
    if (!(eps >= 0 && eps < 0.5))
        fail("objective.label_smoothing must be in [0, 0.5) (got " + util::formatNumber(eps) +
             "); 0 is plain DPO, values near 0.5 make the loss ignore the preference");
}

// -(1 - ε) log σ(x) - ε log σ(-x), the ε term left out when ε = 0.
at::Tensor smoothedSigmoidLoss(const at::Tensor& x, double eps)
{
    at::Tensor loss = -at::log_sigmoid(x) * (1 - eps);
    if (eps > 0)
        loss = loss - at::log_sigmoid(-x) * eps;
    return loss;
}

// log(1 - e^a) for a < 0, each branch fed only inputs where it is exact and finite so
// that neither the value nor the gradient of the unused branch can poison at::where.
at::Tensor log1mexp(const at::Tensor& a)
{
    const double ln2 = std::log(2.0);
    at::Tensor nearZero = at::log(-at::expm1(a.clamp(-ln2, -1e-6)));  // a in (-ln 2, 0)
    at::Tensor farBelow = at::log1p(-at::exp(a.clamp_max(-ln2)));       // a <= -ln 2
    return at::where(a > -ln2, nearZero, farBelow);
}

} // namespace

at::Tensor sequenceLogps(const at::Tensor& logits, const at::Tensor& labels, at::Tensor* tokenCounts)
{
    requireDefined("sequenceLogps", "logits", logits);
    requireDefined("sequenceLogps", "labels", labels);
    if (logits.dim() != 3 || labels.dim() != 2 || logits.size(0) != labels.size(0) ||
        logits.size(1) != labels.size(1))
        fail("sequenceLogps: expected logits (B, T, V) and labels (B, T), got logits " + util::shapeString(logits.sizes()) +
             " and labels " + util::shapeString(labels.sizes()));
    const int64_t t = logits.size(1);
    const int64_t predicted = std::max<int64_t>(t - 1, 0);
    at::Tensor scoring = upcast(logits.narrow(1, 0, predicted));              // (B, T-1, V)
    at::Tensor targets = labels.narrow(1, std::min<int64_t>(1, t), predicted).to(at::kLong);  // (B, T-1)
    at::Tensor scored = targets != kIgnoreIndex;                               // (B, T-1)
    at::Tensor safeTargets = at::where(scored, targets, at::zeros_like(targets));
    at::Tensor tokenLogps = at::log_softmax(scoring, -1).gather(-1, safeTargets.unsqueeze(-1)).squeeze(-1);
    tokenLogps = at::where(scored, tokenLogps, at::zeros_like(tokenLogps));  // (B, T-1)
    if (tokenCounts)
        *tokenCounts = scored.sum(-1);  // (B,) int64
    return tokenLogps.sum(-1);          // (B,)
}

PreferenceLossResult dpoLoss(const at::Tensor& policyChosen, const at::Tensor& policyRejected,
                             const at::Tensor& refChosen, const at::Tensor& refRejected, double beta,
                             double labelSmoothing)
{
    requireBeta(beta);
    requireLabelSmoothing(labelSmoothing);
    requireSameShape("dpoLoss", "policyChosen", policyChosen, "policyRejected", policyRejected, "one entry per pair");
    requireSameShape("dpoLoss", "policyChosen", policyChosen, "refChosen", refChosen, "one entry per pair");
    requireSameShape("dpoLoss", "policyChosen", policyChosen, "refRejected", refRejected, "one entry per pair");
    at::Tensor chosenLogRatio = upcast(policyChosen) - upcast(refChosen);        // (P,)
    at::Tensor rejectedLogRatio = upcast(policyRejected) - upcast(refRejected);  // (P,)
    at::Tensor h = chosenLogRatio - rejectedLogRatio;
    return {smoothedSigmoidLoss(h * beta, labelSmoothing), (chosenLogRatio * beta).detach(),
            (rejectedLogRatio * beta).detach()};
}

PreferenceLossResult ipoLoss(const at::Tensor& policyChosen, const at::Tensor& policyRejected,
                             const at::Tensor& refChosen, const at::Tensor& refRejected, double beta)
{
    requireBeta(beta);
    requireSameShape("ipoLoss", "policyChosen", policyChosen, "policyRejected", policyRejected, "one entry per pair");
    requireSameShape("ipoLoss", "policyChosen", policyChosen, "refChosen", refChosen, "one entry per pair");
    requireSameShape("ipoLoss", "policyChosen", policyChosen, "refRejected", refRejected, "one entry per pair");
    at::Tensor chosenLogRatio = upcast(policyChosen) - upcast(refChosen);        // (P,)
    at::Tensor rejectedLogRatio = upcast(policyRejected) - upcast(refRejected);  // (P,)
    at::Tensor h = chosenLogRatio - rejectedLogRatio;
    return {(h - 1 / (2 * beta)).square(), (chosenLogRatio * beta).detach(), (rejectedLogRatio * beta).detach()};
}

PreferenceLossResult simpoLoss(const at::Tensor& avgChosen, const at::Tensor& avgRejected, double beta, double gamma,
                               double labelSmoothing)
{
    requireBeta(beta);
    requireLabelSmoothing(labelSmoothing);
    if (!std::isfinite(gamma))
        fail("objective.gamma (SimPO's target reward margin) must be a finite number (got " + util::formatNumber(gamma) + ")");
    requireSameShape("simpoLoss", "avgChosen", avgChosen, "avgRejected", avgRejected, "one entry per pair");
    at::Tensor chosenReward = upcast(avgChosen) * beta;      // (P,)
    at::Tensor rejectedReward = upcast(avgRejected) * beta;  // (P,)
    at::Tensor z = chosenReward - rejectedReward - gamma;
    return {smoothedSigmoidLoss(z, labelSmoothing), chosenReward.detach(), rejectedReward.detach()};
}

OddsRatioResult orpoOddsRatioLoss(const at::Tensor& avgChosen, const at::Tensor& avgRejected)
{
    requireSameShape("orpoOddsRatioLoss", "avgChosen", avgChosen, "avgRejected", avgRejected, "one entry per pair");
    at::Tensor a = upcast(avgChosen).clamp_max(-1e-6);   // (P,)
    at::Tensor b = upcast(avgRejected).clamp_max(-1e-6);  // (P,)
    at::Tensor logOddsRatio = (a - log1mexp(a)) - (b - log1mexp(b));
    return {-at::log_sigmoid(logOddsRatio), logOddsRatio.detach()};
}

KtoLossResult ktoLoss(const at::Tensor& policyLogps, const at::Tensor& refLogps, const at::Tensor& desirable,
                      const at::Tensor& klEstimate, double beta, double desirableWeight, double undesirableWeight)
{
    requireBeta(beta);
    if (!(desirableWeight > 0) || !std::isfinite(desirableWeight))
        fail("objective.desirable_weight must be > 0 (got " + util::formatNumber(desirableWeight) + ")");
    if (!(undesirableWeight > 0) || !std::isfinite(undesirableWeight))
        fail("objective.undesirable_weight must be > 0 (got " + util::formatNumber(undesirableWeight) + ")");
    requireSameShape("ktoLoss", "policyLogps", policyLogps, "refLogps", refLogps, "one entry per pair");
    requireSameShape("ktoLoss", "policyLogps", policyLogps, "desirable", desirable, "one entry per pair");
    requireDefined("ktoLoss", "klEstimate", klEstimate);
    if (klEstimate.numel() != 1)
        fail("ktoLoss: klEstimate must be a single number (a scalar tensor), got shape " + util::shapeString(klEstimate.sizes()));
    at::Tensor r = upcast(policyLogps) - upcast(refLogps);  // (N,)
    at::Tensor z = klEstimate.detach().to(r.scalar_type()).reshape({}).clamp_min(0).to(r.device());
    // 1 - σ(x) written as σ(-x): exact in the tails where 1 - σ(x) would round to 0.
    at::Tensor desirableLoss = at::sigmoid(-(r - z) * beta) * desirableWeight;
    at::Tensor undesirableLoss = at::sigmoid(-(z - r) * beta) * undesirableWeight;
    at::Tensor losses = at::where(desirable.to(at::kBool), desirableLoss, undesirableLoss);
    return {losses, (r * beta).detach()};
}

at::Tensor bradleyTerryLoss(const at::Tensor& chosenScores, const at::Tensor& rejectedScores, const at::Tensor& margin)
{
    requireSameShape("bradleyTerryLoss", "chosenScores", chosenScores, "rejectedScores", rejectedScores, "one entry per pair");
    at::Tensor diff = upcast(chosenScores) - upcast(rejectedScores);  // (P,)
    if (margin.defined()) {
        requireSameShape("bradleyTerryLoss", "chosenScores", chosenScores, "margin", margin, "one entry per pair");
        diff = diff - upcast(margin).to(diff.scalar_type());
    }
    return -at::log_sigmoid(diff);
}

} // namespace ft::align
