// Tiny model configurations for tests: small enough for finite differences and
// sub-second forward passes, shaped to exercise GQA, biases and windows.
#pragma once

#include "model/model_config.h"

namespace fttest {

inline ft::model::ModelConfig tinyConfig(ft::model::Arch arch = ft::model::Arch::Llama)
{
    ft::model::ModelConfig c;
    c.arch = arch;
    c.vocabSize = 61;
    c.hiddenSize = 32;
    c.intermediateSize = 48;
    c.numHiddenLayers = 2;
    c.numAttentionHeads = 4;
    c.numKeyValueHeads = 2;
    c.headDim = 8;
    c.maxPositionEmbeddings = 128;
    c.rmsNormEps = 1e-6;
    c.ropeTheta = 10000.0;
    c.attentionBias = arch == ft::model::Arch::Qwen2;
    c.tieWordEmbeddings = arch == ft::model::Arch::Qwen2 || arch == ft::model::Arch::Qwen3;  // as their small sizes
    if (arch == ft::model::Arch::Qwen3)
        c.headDim = 12;  // explicit, heads x head_dim != hidden, as Qwen3 ships
    if (arch == ft::model::Arch::Mistral)
        c.slidingWindow = 4;
    if (arch == ft::model::Arch::SmolLM3) {  // layer 1 without positional encoding
        c.tieWordEmbeddings = true;
        c.ropeLayers = {true, false};
    }
    if (arch == ft::model::Arch::Phi3) {  // as Phi-4-mini: 3/4 of each head rotated, longrope past 8 tokens
        c.partialRotaryFactor = 0.75;
        c.ropeScaling.type = "longrope";
        c.ropeScaling.originalMaxPositionEmbeddings = 8;
        c.ropeScaling.shortFactor = {1.0, 1.5, 2.0};
        c.ropeScaling.longFactor = {1.0, 4.0, 16.0};
        c.ropeScaling.attentionFactor = 1.2;
    }
    if (arch == ft::model::Arch::Qwen3Moe || arch == ft::model::Arch::Mixtral || arch == ft::model::Arch::Olmoe) {
        c.numExperts = 4;  // top 2 of 4 experts, 24 wide; Qwen3-MoE's layer 1 dense (mlp_only_layers)
        c.numExpertsPerTok = 2;
        c.moeIntermediateSize = 24;
        c.normTopkProb = arch != ft::model::Arch::Olmoe;
        c.routerAuxLossCoef = 0.01;
        if (arch == ft::model::Arch::Qwen3Moe) {
            c.headDim = 12;
            c.sparseLayers = {true, false};
        }
    }
    if (ft::model::archTraits(arch).gemmaBlock) {  // as Gemma ships: gelu-tanh, tied, local/global layers
        c.hiddenAct = "gelu_pytorch_tanh";
        c.tieWordEmbeddings = true;
        c.slidingWindow = 4;
        c.slidingLayers = {true, false};
        c.queryPreAttnScalar = 16;
        if (arch == ft::model::Arch::Gemma2) {
            c.attnLogitSoftcap = 50;
            c.finalLogitSoftcap = 30;
        } else {
            c.ropeTheta = 1e6;
            c.ropeLocalTheta = 10000;
        }
    }
    return c;
}

} // namespace fttest
