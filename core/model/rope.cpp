#include "model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ft::model {

at::Tensor ropeInverseFrequencies(const ModelConfig& c)
{
    const int64_t d = c.headDim;
    // fp32 and in Hugging Face's order of operations, so the angles agree to the bit.
    at::Tensor exponents = at::arange(0, d, 2, at::kLong).to(at::kFloat) / static_cast<double>(d);
    at::Tensor invFreq = 1.0 / at::pow(c.ropeTheta, exponents);  // (D/2,)
    const RopeScaling& s = c.ropeScaling;
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

RopeTables ropeTables(const at::Tensor& positions, const at::Tensor& invFreq, c10::ScalarType dtype)
{
    // (B, T, 1) * (1, 1, D/2) -> (B, T, D/2), then duplicated to (B, T, D)
    at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * invFreq.view({1, 1, -1});
    at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);  // (B, 1, T, D)
    return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor applyRope(const at::Tensor& x, const RopeTables& t)
{
    const int64_t half = x.size(-1) / 2;
    at::Tensor x1 = x.narrow(-1, 0, half);
    at::Tensor x2 = x.narrow(-1, half, half);
    at::Tensor rotated = at::cat({-x2, x1}, -1);
    return x * t.cos + rotated * t.sin;
}

} // namespace ft::model
