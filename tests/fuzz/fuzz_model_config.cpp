// libFuzzer: a model folder's config.json, read as the model loader, `ftstudio-cli info`
// and the memory estimate read it (model::readModelConfig: the common fields, rope
// scaling, the multimodal wrapper's text_config, then each architecture's own fields in
// model/arch_*.cpp), then what they do with it before any weight is loaded: the
// parameter counts, the per-layer predicates, and config.json written back
// (modelConfigToJson, as a merged or exported folder holds it) and read again.
#include "fuzz_input.h"
#include "model/model_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    const std::string& path = file.write(data, size);
    ftfuzz::expectOnlyFtErrors([&] {
        const ft::model::ModelConfig c = ft::model::readModelConfig(path);
        (void)c.parameterCount();
        (void)c.activeParameterCount();
        (void)c.kvGroups();
        for (int64_t i = 0; i < c.numHiddenLayers; ++i)
            (void)(c.layerUsesRope(i) + c.layerIsSliding(i) + c.layerIsSparse(i));
        (void)ft::model::multimodalModulePath(c, "model.layers.0.self_attn.q_proj");
        // What the studio writes must read back as the same model.
        const ft::model::ModelConfig back = ft::model::parseModelConfig(ft::model::modelConfigToJson(c), "written");
        if (back.arch != c.arch || back.numHiddenLayers != c.numHiddenLayers || back.hiddenSize != c.hiddenSize ||
            back.headDim != c.headDim || back.parameterCount() != c.parameterCount()) {
            std::fprintf(stderr, "config.json written back reads as another model\n");
            std::abort();
        }
    });
    return 0;
}
