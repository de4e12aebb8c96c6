// libFuzzer: a run config (run.json), read as `ftstudio-cli train --config`, `train
// --estimate`, `--check-data` and the studio's Train page read it before anything
// trains (train::parseRunConfig: every section validated against its schema, the
// technique's and the objective's settings, the cross-section rules, the files it
// names looked up by pathProblems), then what they do with it before a model is loaded: the
// technique's trainable-parameter estimate and the memory formula on a small
// Llama-shaped config. The resolved config written back (toJson, as run_config.json
// keeps it with the run's outputs) must parse again into the same config.
#include "fuzz_input.h"
#include "io/json_file.h"
#include "model/model_config.h"
#include "peft/technique.h"
#include "train/memory_estimate.h"
#include "train/run_config.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    static const ft::model::ModelConfig shape = ft::model::parseModelConfig(
        {{"model_type", "llama"}, {"hidden_size", 64}, {"intermediate_size", 128}, {"num_hidden_layers", 2},
         {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"vocab_size", 100}},
        "llama");
    const std::string& path = file.write(data, size);
    ftfuzz::expectOnlyFtErrors([&] {
        // loadRunConfig's steps, its check of the files on disk apart (a fuzzed config
        // names no folder that exists, and would stop there).
        const ft::train::RunConfig c = ft::train::parseRunConfig(ft::io::readJsonFile(path), path, "/tmp/run");
        (void)ft::train::pathProblems(c);
        const ft::peft::Technique& t = ft::peft::technique(c.technique.technique);
        try {
            const ft::peft::TechniqueEstimate e = t.estimate(shape, c.technique);
            ft::train::MemoryEstimateInput in{.config = shape,
                                              .trainableParameters = e.added + e.trainedInPlace,
                                              .batchSize = c.training.batchSize,
                                              .seqLen = c.training.maxSeqLen,
                                              .gradientCheckpointing = c.training.gradientCheckpointing};
            (void)ft::train::estimateTrainingMemory(in).summary();
        } catch (const ft::Error&) {  // targets that match no module of this shape: refused, as the run would be
        }
        // run_config.json, as the run keeps it, is the same config.
        const nlohmann::json written = ft::train::toJson(c);
        const ft::train::RunConfig back = ft::train::parseRunConfig(written, "run_config.json");
        if (ft::train::toJson(back) != written) {
            std::fprintf(stderr, "run_config.json written back parses as another config:\n%s\n%s\n",
                         written.dump().c_str(), ft::train::toJson(back).dump().c_str());
            std::abort();
        }
    });
    return 0;
}
