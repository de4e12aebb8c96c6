#include "train/memory_estimate.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ft::train {

int64_t activationBytesPerLayerToken(const model::ModelConfig& c, int64_t e)
{
    const int64_t C = c.hiddenSize, F = c.intermediateSize, D = c.headDim;
    const int64_t H = c.numAttentionHeads, K = c.numKeyValueHeads;
    const int64_t norms = 2 * (4 + 2 * e) * C;
    const int64_t attention = e * (4 * H * D + 2 * K * D + 2 * (K < H ? H : K) * D);
    int64_t mlp = 4 * e * F;
    if (c.hasExperts()) {  // per token: k experts' MLPs, its k routed copies and outputs, the router's logits and fp32 probabilities
        const int64_t k = c.numExpertsPerTok, E = c.numExperts;
        mlp = std::max(mlp, k * (4 * e * c.moeIntermediateSize + 2 * e * C) + E * (e + 8));
    }
    return norms + attention + mlp;
}

int64_t attentionBytesPerLayerSequence(const model::ModelConfig& c, int64_t seqLen, int64_t e)
{
    const int64_t perElement = 4 + (e < 4 ? e : 0);
    return c.numAttentionHeads * seqLen * seqLen * perElement;
}

MemoryEstimate estimateTrainingMemory(const MemoryEstimateInput& in)
{
    const model::ModelConfig& c = in.config;
    if (in.batchSize <= 0 || in.seqLen <= 0 || in.activationBytes <= 0)
        fail("a memory estimate needs batch size, sequence length and activation bytes > 0");
    if (c.numHiddenLayers <= 0 || c.hiddenSize <= 0 || c.numAttentionHeads <= 0 || c.numKeyValueHeads <= 0)
        fail("a memory estimate needs a model config with layers, hidden size and heads");
    const int64_t B = in.batchSize, T = in.seqLen, e = in.activationBytes;
    const int64_t L = c.numHiddenLayers, C = c.hiddenSize, H = c.numAttentionHeads, V = c.vocabSize;

    MemoryEstimate m;
    m.weights = in.frozenWeightBytes + in.trainableParameters * in.trainableBytesPerParameter;
    m.gradients = in.trainableParameters * in.trainableBytesPerParameter;
    m.optimizer = in.trainableParameters * in.trainableBytesPerParameter * in.optimizerStatesPerParameter;

    const int64_t oneLayer = B * T * activationBytesPerLayerToken(c, e) + B * attentionBytesPerLayerSequence(c, T, e);
    const int64_t layers = in.gradientCheckpointing ? L * B * T * C * e + oneLayer : L * oneLayer;
    const int64_t head = B * T * ((4 + 2 * e) * C + 4 * 4 * V);
    const int64_t backwardWorkingSet = 2 * B * H * T * T * 4;
    m.activations = layers + head + backwardWorkingSet;
    m.total = m.weights + m.gradients + m.optimizer + m.activations;
    return m;
}

std::string formatBytes(int64_t bytes)
{
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (std::abs(v) >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string MemoryEstimate::summary() const
{
    return "weights " + formatBytes(weights) + " + gradients " + formatBytes(gradients) + " + optimizer " +
           formatBytes(optimizer) + " + activations " + formatBytes(activations) + " = " + formatBytes(total);
}

} // namespace ft::train
