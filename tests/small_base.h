// A small base model folder for engine tests: the embedded recipe shrunk to a
// 512-piece tokenizer and a 2-layer model pretrained for a few dozen steps on the
// shipped corpus (about ten seconds), built once per test binary into a temporary
// folder. Real enough that SFT has something to build on, small enough for CI.
#pragma once

#include "base/make_base.h"
#include "util/paths.h"

#include <QTemporaryDir>

#include <memory>
#include <string>

namespace fttest {

// FTSTUDIO_TEST_BASE_DIR names a folder to build it in (once) and keep, to try
// configs by hand with ftstudio-cli on the same model the tests use.
inline std::string smallBaseModel()
{
    static std::unique_ptr<QTemporaryDir> dir;
    static std::string kept;
    if (kept.empty() && !qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_BASE_DIR"))
        kept = qEnvironmentVariable("FTSTUDIO_TEST_BASE_DIR").toStdString();
    if (!kept.empty() || !dir) {
        if (kept.empty())
            dir = std::make_unique<QTemporaryDir>();
        ft::base::BaseRecipe r = ft::base::defaultBaseRecipe();
        r.tokenizerVocab = 512;
        r.config.vocabSize = 512;
        r.config.hiddenSize = 64;
        r.config.intermediateSize = 160;
        r.config.numHiddenLayers = 2;
        r.config.numAttentionHeads = 4;
        r.config.numKeyValueHeads = 2;
        r.config.headDim = 16;
        r.config.maxPositionEmbeddings = 256;
        r.pretrain.steps = 60;
        r.pretrain.batchSize = 8;
        r.pretrain.seqLen = 64;
        r.pretrain.warmupSteps = 5;
        r.pretrain.evalMaxBatches = 2;
        const std::string out = kept.empty() ? dir->filePath("base").toStdString() : kept + "/base";
        ft::base::makeBaseModel(out, ft::datasetsDir() + "/base_corpus", r, /*force=*/false,
                                [](const std::string&) {}, [](const auto&) {});
    }
    return kept.empty() ? dir->filePath("base").toStdString() : kept + "/base";
}

} // namespace fttest
