// A small base model folder for engine tests: the embedded recipe shrunk to a
// 512-piece tokenizer and a 2-layer model pretrained for a few dozen steps on the
// shipped corpus (about ten seconds), built once per test binary into a temporary
// folder. Real enough that SFT has something to build on, small enough for CI.
#pragma once

#include "base/make_base.h"
#include "util/paths.h"

#include <QTemporaryDir>

#include <cmath>

#include <map>
#include <memory>
#include <string>

namespace fttest {

// FTSTUDIO_TEST_BASE_DIR names a folder to build it in (once) and keep, to try
// configs by hand with ftstudio-cli on the same model the tests use. `arch` picks
// the family the recipe builds (Llama by default; Qwen3 adds its per-head q/k norms
// and an explicit head_dim; Gemma 2 / 3 their block, soft-caps, local/global layers),
// each built once per test binary in its own folder.
// `pretrainSteps` other than the default 60 builds a separate, better-trained copy
// (Llama only; its own folder), for tests whose adapters must learn from what the base
// already represents: frozen embeddings of a 60-step base carry too little for LoRA.
inline std::string smallBaseModel(ft::model::Arch arch = ft::model::Arch::Llama, int pretrainSteps = 60)
{
    static std::map<std::pair<ft::model::Arch, int>, std::unique_ptr<QTemporaryDir>> dirs;
    static std::map<std::pair<ft::model::Arch, int>, bool> built;
    const std::pair<ft::model::Arch, int> key{arch, pretrainSteps};
    std::string kept;
    if (!qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_BASE_DIR"))
        kept = qEnvironmentVariable("FTSTUDIO_TEST_BASE_DIR").toStdString();
    std::string leaf = arch == ft::model::Arch::Llama ? "base" : std::string("base-") + ft::model::archName(arch);
    if (pretrainSteps != 60)
        leaf += "-steps" + std::to_string(pretrainSteps);
    if (kept.empty() && !dirs[key])
        dirs[key] = std::make_unique<QTemporaryDir>();
    const std::string out = kept.empty() ? dirs[key]->filePath(QString::fromStdString(leaf)).toStdString()
                                         : kept + "/" + leaf;
    if (!built[key]) {
        ft::base::BaseRecipe r = ft::base::defaultBaseRecipe();
        r.tokenizerVocab = 512;
        r.config.arch = arch;
        r.config.vocabSize = 512;
        r.config.hiddenSize = 64;
        r.config.intermediateSize = 160;
        r.config.numHiddenLayers = 2;
        r.config.numAttentionHeads = 4;
        r.config.numKeyValueHeads = 2;
        r.config.headDim = arch == ft::model::Arch::Qwen3 ? 24 : 16;
        if (arch == ft::model::Arch::SmolLM3)  // the second of the two layers without positional encoding
            r.config.ropeLayers = {true, false};
        if (arch == ft::model::Arch::Phi3) {  // as Phi-4-mini: partial rotary, longrope (long factors past 32 tokens)
            r.config.partialRotaryFactor = 0.75;
            r.config.ropeScaling.type = "longrope";
            r.config.ropeScaling.originalMaxPositionEmbeddings = 32;
            r.config.ropeScaling.shortFactor = {1.0, 1.0, 1.2, 1.5, 2.0, 3.0};
            r.config.ropeScaling.longFactor = {1.0, 1.5, 3.0, 6.0, 12.0, 24.0};
            r.config.ropeScaling.attentionFactor = std::sqrt(1.0 + std::log(256.0 / 32.0) / std::log(32.0));
        }
        if (arch == ft::model::Arch::Qwen3Moe || arch == ft::model::Arch::Mixtral || arch == ft::model::Arch::Olmoe) {
            r.config.numExperts = 4;  // top 2 of 4 experts, 64 wide; Qwen3-MoE's second layer dense
            r.config.numExpertsPerTok = 2;
            r.config.moeIntermediateSize = 64;
            r.config.normTopkProb = arch != ft::model::Arch::Olmoe;
            r.config.routerAuxLossCoef = 0.01;
            if (arch == ft::model::Arch::Qwen3Moe)
                r.config.sparseLayers = {true, false};
        }
        if (ft::model::archTraits(arch).gemmaBlock) {  // as Gemma ships them, at this size
            r.config.hiddenAct = "gelu_pytorch_tanh";
            r.config.tieWordEmbeddings = true;
            r.config.slidingWindow = 32;
            r.config.slidingLayers = {true, false};
            r.config.queryPreAttnScalar = 16;
            if (arch == ft::model::Arch::Gemma2)
                r.config.attnLogitSoftcap = 50, r.config.finalLogitSoftcap = 30;
            else
                r.config.ropeTheta = 1e6, r.config.ropeLocalTheta = 10000;
        }
        r.config.maxPositionEmbeddings = 256;
        r.pretrain.steps = pretrainSteps;
        r.pretrain.batchSize = 8;
        r.pretrain.seqLen = 64;
        r.pretrain.warmupSteps = 5;
        r.pretrain.evalMaxBatches = 2;
        ft::base::makeBaseModel(out, ft::datasetsDir() + "/base_corpus", r, /*force=*/false,
                                [](const std::string&) {}, [](const auto&) {});
        built[key] = true;
    }
    return out;
}

} // namespace fttest
