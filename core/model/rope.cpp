#include "model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ft::model {

at::Tensor ropeInverseFrequencies(const ModelConfig& c, bool longContext)
{
    const int64_t d = c.rotaryDim();
    // fp32 and in Hugging Face's order of operations, so the angles agree to the bit.
    at::Tensor exponents = at::arange(0, d, 2, at::kLong).to(at::kFloat) / static_cast<double>(d);
    const RopeScaling& s = c.ropeScaling;
    if (s.type == "longrope") {  // 1 / (factor_i * base^(2i/d)), transformers' expression
        const std::vector<double>& f = longContext ? s.longFactor : s.shortFactor;
        at::Tensor ext = at::tensor(std::vector<float>(f.begin(), f.end()), at::kFloat);
        return 1.0 / (ext * at::pow(c.ropeTheta, exponents));
    }
    at::Tensor invFreq = 1.0 / at::pow(c.ropeTheta, exponents);  // (D/2,)
    if (s.type == "linear") {
        invFreq = invFreq / s.factor;
    } else if (s.type == "llama3") {
        // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept,
        // and the band between is interpolated smoothly.
        const double oldLen = static_cast<double>(s.originalMaxPositionEmbeddings);
        const double lowFreqWavelen = oldLen / s.lowFreqFactor;
        const double highFreqWavelen = oldLen / s.highFreqFactor;
        at::Tensor wavelen = 2.0 * M_PI / invFreq;
        at::Tensor scaled = at::where(wavelen > lowFreqWavelen, invFreq / s.factor, invFreq);
        at::Tensor smooth = (oldLen / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        at::Tensor smoothed = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
        at::Tensor medium = (wavelen >= highFreqWavelen).logical_and(wavelen <= lowFreqWavelen);
        invFreq = at::where(medium, smoothed, scaled);
    }
    return invFreq;
}

double ropeAttentionScaling(const ModelConfig& c)
{
    return c.ropeScaling.type == "longrope" ? c.ropeScaling.attentionFactor : 1.0;
}

RopeTables ropeTables(const at::Tensor& positions, const at::Tensor& invFreq, c10::ScalarType dtype, double scaling)
{
    // (B, T, 1) * (1, 1, R/2) -> (B, T, R/2), then duplicated to (B, T, R)
    at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * invFreq.view({1, 1, -1});
    at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);  // (B, 1, T, R)
    if (scaling == 1.0)
        return {emb.cos().to(dtype), emb.sin().to(dtype)};
    return {(emb.cos() * scaling).to(dtype), (emb.sin() * scaling).to(dtype)};  // in fp32, then rounded
}

at::Tensor applyRope(const at::Tensor& x, const RopeTables& t)
{
    const int64_t rotary = t.cos.size(-1);
    if (rotary < x.size(-1))  // partial rotary: the rest of each head passes unchanged
        return at::cat({applyRope(x.narrow(-1, 0, rotary), t), x.narrow(-1, rotary, x.size(-1) - rotary)}, -1);
    const int64_t half = x.size(-1) / 2;
    at::Tensor x1 = x.narrow(-1, 0, half);
    at::Tensor x2 = x.narrow(-1, half, half);
    at::Tensor rotated = at::cat({-x2, x1}, -1);
    return x * t.cos + rotated * t.sin;
}

} // namespace ft::model
