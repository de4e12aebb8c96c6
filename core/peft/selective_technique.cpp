// The descriptors of the techniques that train the model's own weights: the top
// layers (freeze) or all of them (full); the tuners are in peft/selective.cpp.
#include "peft/config_fields.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

namespace ft::peft {

namespace {

TechniqueEstimate estimateFreeze(const model::ModelConfig& c, const PeftSettings& s)
{
    TechniqueEstimate e;
    for (int64_t i = c.numHiddenLayers - std::min(s.trainableLayers, c.numHiddenLayers); i < c.numHiddenLayers; ++i)
        e.trainedInPlace += c.layerParameterCount(i);  // the top layers
    if (s.trainEmbeddings || (c.tieWordEmbeddings && s.trainLmHead))  // tied: one tensor for both
        e.trainedInPlace += c.vocabSize * c.hiddenSize;
    if (s.trainLmHead && !c.tieWordEmbeddings)
        e.trainedInPlace += c.vocabSize * c.hiddenSize;
    return e;
}

TechniqueEstimate estimateFull(const model::ModelConfig& c, const PeftSettings&)
{
    return {.trainedInPlace = c.parameterCount()};
}

} // namespace

const Technique& freezeTechnique()
{
    static const Technique t{.name = "freeze",
                             .summary = "Freeze all but the last N decoder layers (and optionally embeddings / head)",
                             .settings = {"trainable_layers", "train_embeddings", "train_lm_head"},
                             .tuner = "freeze",
                             .estimate = estimateFreeze};
    return t;
}

const Technique& fullTechnique()
{
    static const Technique t{.name = "full",
                             .summary = "Full fine-tuning: every weight trains",
                             .tuner = "full",
                             .estimate = estimateFull};
    return t;
}

} // namespace ft::peft
