#include "align/policy_gradient.h"

#include "align/tensor_checks.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace ft::align {

namespace {

// Log-ratios beyond ±20 (a ratio of 4.9e8) mean the policy has run away; clamping keeps
// exp() finite in fp32 and bf16 alike.
constexpr double kMaxLogRatio = 20.0;

at::Tensor validMask(const at::Tensor& mask)
{
    return mask.scalar_type() == at::kBool ? mask : mask != 0;
}

at::Tensor zerosWhereMasked(const at::Tensor& x, const at::Tensor& valid)
{
    return at::where(valid, x, at::zeros({}, x.options()));
}

} // namespace

at::Tensor maskedMean(const at::Tensor& x, const at::Tensor& mask)
{
    requireSameShape("maskedMean", "x", x, "mask", mask);
    at::Tensor valid = validMask(mask);
    at::Tensor xs = upcast(x);
    at::Tensor count = valid.sum().clamp_min(1).to(xs.scalar_type());
    return zerosWhereMasked(xs, valid).sum() / count;
}

at::Tensor maskedWhiten(const at::Tensor& x, const at::Tensor& mask, bool shiftMean)
{
    requireSameShape("maskedWhiten", "x", x, "mask", mask);
    at::Tensor valid = validMask(mask);
    at::Tensor xs = upcast(x);
    at::Tensor n = valid.sum().to(xs.scalar_type());
    at::Tensor mean = zerosWhereMasked(xs, valid).sum() / n.clamp_min(1);
    at::Tensor centered = xs - mean;
    at::Tensor bessel = n / (n - 1).clamp_min(1);  // with n <= 1 the sum below is 0 anyway
    at::Tensor var = zerosWhereMasked(centered.square(), valid).sum() / n.clamp_min(1) * bessel;
    at::Tensor whitened = centered * at::rsqrt(var + 1e-8);
    if (!shiftMean)
        whitened = whitened + mean;
    return zerosWhereMasked(whitened, valid);
}

GaeResult generalizedAdvantages(const at::Tensor& rewards, const at::Tensor& values, const at::Tensor& mask,
                                double gamma, double lambda)
{
    requireSameShape("generalizedAdvantages", "rewards", rewards, "values", values);
    requireSameShape("generalizedAdvantages", "rewards", rewards, "mask", mask);
    if (rewards.dim() != 2)
        fail("generalizedAdvantages: expected rewards, values and mask of shape (B, T), got " + util::shapeString(rewards.sizes()));
    if (!(gamma >= 0 && gamma <= 1) || !(lambda >= 0 && lambda <= 1))
        fail("generalizedAdvantages: gamma and lambda must be in [0, 1] (got gamma " + util::formatNumber(gamma) + ", lambda " +
             util::formatNumber(lambda) + ")");
    const at::ScalarType dtype = rewards.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    // A sequential recursion over T: done on the CPU in fp64, where it is one pass of
    // plain arithmetic instead of ~8 kernel launches per token.
    at::Tensor r = rewards.detach().to(at::kCPU, at::kDouble).contiguous();  // (B, T)
    at::Tensor v = values.detach().to(at::kCPU, at::kDouble).contiguous();   // (B, T)
    at::Tensor m = validMask(mask.detach()).to(at::kCPU).contiguous();       // (B, T)
    at::Tensor adv = at::zeros_like(r), ret = at::zeros_like(r);
    auto ra = r.accessor<double, 2>(), va = v.accessor<double, 2>(), aa = adv.accessor<double, 2>(),
         ta = ret.accessor<double, 2>();
    auto ma = m.accessor<bool, 2>();
    for (int64_t b = 0; b < r.size(0); ++b) {
        double nextValue = 0, nextAdvantage = 0;  // past the last valid token: episode over
        for (int64_t t = r.size(1) - 1; t >= 0; --t) {
            if (!ma[b][t])
                continue;
            const double delta = ra[b][t] + gamma * nextValue - va[b][t];
            nextAdvantage = delta + gamma * lambda * nextAdvantage;
            nextValue = va[b][t];
            aa[b][t] = nextAdvantage;
            ta[b][t] = nextAdvantage + va[b][t];
        }
    }
    return {adv.to(rewards.device(), dtype), ret.to(rewards.device(), dtype)};
}

at::Tensor groupAdvantages(const at::Tensor& rewards, int64_t groupSize, bool scaleByStd, double eps)
{
    if (!rewards.defined() || rewards.dim() != 1)
        fail("groupAdvantages: rewards must be a 1-D tensor (N,), got " +
             (rewards.defined() ? util::shapeString(rewards.sizes()) : std::string("an undefined tensor")));
    if (groupSize < 1)
        fail("groupAdvantages: the group size (completions per prompt) must be >= 1 (got " +
             std::to_string(groupSize) + ")");
    if (rewards.size(0) % groupSize != 0)
        fail("groupAdvantages: " + std::to_string(rewards.size(0)) + " rewards do not split into groups of " +
             std::to_string(groupSize) + " completions per prompt; N must be prompts x group size");
    if (scaleByStd && !(eps > 0))
        fail("groupAdvantages: eps must be > 0 when scaling by the group std (got " + util::formatNumber(eps) + ")");
    at::Tensor r = upcast(rewards);
    if (groupSize == 1)
        return at::zeros_like(r);
    at::Tensor grouped = r.view({-1, groupSize});                          // (prompts, G)
    at::Tensor shifted = grouped - grouped.narrow(1, 0, 1);               // exact zeros for equal rewards
    at::Tensor centered = shifted - shifted.mean({1}, /*keepdim=*/true);  // (prompts, G)
    if (scaleByStd)
        centered = centered / (shifted.std({1}, /*unbiased=*/true, /*keepdim=*/true) + eps);
    return centered.reshape({-1});
}

at::Tensor k3KlEstimate(const at::Tensor& logp, const at::Tensor& refLogp)
{
    requireSameShape("k3KlEstimate", "logp", logp, "refLogp", refLogp);
    at::Tensor d = (upcast(refLogp) - upcast(logp)).clamp(-kMaxLogRatio, kMaxLogRatio);
    return at::expm1(d) - d;  // e^d - 1 - d without the cancellation near d = 0
}

ClippedPolicyLoss clippedPolicyLoss(const at::Tensor& logp, const at::Tensor& oldLogp, const at::Tensor& advantages,
                                    const at::Tensor& mask, double clipLow, double clipHigh)
{
    requireSameShape("clippedPolicyLoss", "logp", logp, "oldLogp", oldLogp);
    requireSameShape("clippedPolicyLoss", "logp", logp, "mask", mask);
    if (logp.dim() != 2)
        fail("clippedPolicyLoss: expected logp of shape (B, T), got " + util::shapeString(logp.sizes()));
    if (!advantages.defined() || advantages.dim() != 2 || advantages.size(0) != logp.size(0) ||
        (advantages.size(1) != logp.size(1) && advantages.size(1) != 1))
        fail("clippedPolicyLoss: advantages must be (B, T) or (B, 1) for logp " + util::shapeString(logp.sizes()) + ", got " +
             (advantages.defined() ? util::shapeString(advantages.sizes()) : std::string("an undefined tensor")));
    if (!(clipLow >= 0 && clipLow < 1) || !(clipHigh >= 0) || !std::isfinite(clipHigh))
        fail("clippedPolicyLoss: the clip range needs 0 <= clip low < 1 and clip high >= 0 (got " + util::formatNumber(clipLow) +
             ", " + util::formatNumber(clipHigh) + ")");
    at::Tensor valid = validMask(mask);
    at::Tensor logRatio = (upcast(logp) - upcast(oldLogp)).clamp(-kMaxLogRatio, kMaxLogRatio);
    at::Tensor ratio = at::exp(logRatio);  // (B, T)
    at::Tensor a = upcast(advantages);     // (B, T) or (B, 1)
    at::Tensor unclipped = ratio * a;
    at::Tensor clipped = ratio.clamp(1 - clipLow, 1 + clipHigh) * a;
    at::Tensor perToken = zerosWhereMasked(-at::minimum(unclipped, clipped), valid);
    at::Tensor clipFraction = maskedMean((clipped < unclipped).to(perToken.scalar_type()), valid).detach();
    return {perToken, clipFraction, ratio.detach()};
}

at::Tensor clippedValueLoss(const at::Tensor& values, const at::Tensor& oldValues, const at::Tensor& returns,
                            const at::Tensor& mask, double clip)
{
    requireSameShape("clippedValueLoss", "values", values, "oldValues", oldValues);
    requireSameShape("clippedValueLoss", "values", values, "returns", returns);
    requireSameShape("clippedValueLoss", "values", values, "mask", mask);
    if (!(clip > 0) || !std::isfinite(clip))
        fail("clippedValueLoss: the value clip range must be > 0 (got " + util::formatNumber(clip) + ")");
    at::Tensor v = upcast(values), old = upcast(oldValues), target = upcast(returns);
    at::Tensor vClipped = at::maximum(at::minimum(v, old + clip), old - clip);
    at::Tensor loss = at::maximum((v - target).square(), (vClipped - target).square()) * 0.5;
    return zerosWhereMasked(loss, validMask(mask));
}

at::Tensor entropyFromLogits(const at::Tensor& logits)
{
    if (!logits.defined() || logits.dim() < 1)
        fail("entropyFromLogits: expected logits (B, T, V)");
    at::Tensor logProbs = at::log_softmax(upcast(logits), -1);  // (B, T, V)
    return -(logProbs.exp() * logProbs).sum(-1);                // (B, T)
}

KlController KlController::fixed(double coef)
{
    if (!(coef >= 0) || !std::isfinite(coef))
        fail("objective.kl_coef must be >= 0 (got " + util::formatNumber(coef) + ")");
    KlController c;
    c.m_coef = coef;
    return c;
}

KlController KlController::adaptive(double initCoef, double target, int64_t horizon)
{
    KlController c = fixed(initCoef);
    if (!(target > 0) || !std::isfinite(target))
        fail("objective.kl_target must be > 0 for the adaptive KL controller (got " + util::formatNumber(target) + ")");
    if (horizon <= 0)
        fail("objective.kl_horizon must be > 0 for the adaptive KL controller (got " + std::to_string(horizon) + ")");
    c.m_adaptive = true;
    c.m_target = target;
    c.m_horizon = horizon;
    return c;
}

void KlController::update(double currentKl, int64_t nSteps)
{
    if (!std::isfinite(currentKl))
        fail("KL controller: the measured KL to the reference is not finite (" + util::formatNumber(currentKl) +
             "); the policy has diverged, lower the learning rate or raise objective.kl_coef");
    if (nSteps < 0)
        fail("KL controller: nSteps must be >= 0 (got " + std::to_string(nSteps) + ")");
    if (!m_adaptive)
        return;
    const double error = std::clamp(currentKl / m_target - 1, -0.2, 0.2);
    m_coef *= 1 + error * double(nSteps) / double(m_horizon);
}

nlohmann::json KlController::toJson() const
{
    if (!m_adaptive)
        return {{"kind", "fixed"}, {"coef", m_coef}};
    return {{"kind", "adaptive"}, {"coef", m_coef}, {"target", m_target}, {"horizon", m_horizon}};
}

KlController KlController::fromJson(const nlohmann::json& j)
{
    auto numberField = [&](const char* key) {
        if (!j.is_object() || !j.contains(key) || !j[key].is_number())
            fail(std::string("KL controller state: expected a number in \"") + key + "\", got " +
                 (j.is_object() && j.contains(key) ? j[key].dump() : std::string("nothing")));
        return j[key];
    };
    const std::string kind = j.is_object() && j.contains("kind") && j["kind"].is_string() ? j["kind"].get<std::string>() : "";
    if (kind == "fixed")
        return fixed(numberField("coef").get<double>());
    if (kind == "adaptive") {
        const nlohmann::json& horizon = numberField("horizon");
        if (!horizon.is_number_integer())
            fail("KL controller state: \"horizon\" must be an integer, got " + horizon.dump());
        KlController c = adaptive(numberField("coef").get<double>(), numberField("target").get<double>(),
                                  horizon.get<int64_t>());
        return c;
    }
    fail("KL controller state: \"kind\" must be \"fixed\" or \"adaptive\", got " +
         (j.is_object() && j.contains("kind") ? j["kind"].dump() : std::string("nothing")));
}

} // namespace ft::align
