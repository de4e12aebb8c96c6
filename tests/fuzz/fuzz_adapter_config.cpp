// libFuzzer: an adapter folder's adapter_config.json, read as loading an adapter,
// `ftstudio-cli adapter info`, merging and exporting read it before any tensor
// (peft::readAdapterSettings: our own "ftstudio" block, or PEFT's fields read by the
// technique of that peft_type), then what they do with the settings before a model is
// loaded: the technique's trainable-parameter estimate and default targets on a small
// Llama-shaped and a fused-projection (Phi-3) config, and the settings written back
// (settingsToJson, as a saved adapter holds them) must read back as the same settings.
#include "fuzz_input.h"
#include "model/model_config.h"
#include "peft/adapter_config.h"
#include "peft/target_rules.h"
#include "peft/technique.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

const std::vector<ft::model::ModelConfig>& shapes()
{
    static const std::vector<ft::model::ModelConfig> list = {
        ft::model::parseModelConfig({{"model_type", "llama"}, {"hidden_size", 64}, {"intermediate_size", 128},
                                     {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                                     {"vocab_size", 100}, {"tie_word_embeddings", false}},
                                    "llama"),
        ft::model::parseModelConfig({{"model_type", "phi3"}, {"hidden_size", 64}, {"intermediate_size", 128},
                                     {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 4},
                                     {"vocab_size", 100}},
                                    "phi3")};
    return list;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // The file as a folder holds it: DIR/adapter_config.json.
    static const std::filesystem::path dir = [] {
        const auto d = std::filesystem::temp_directory_path() / ("ftstudio-fuzz-adapter-" + std::to_string(getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    {
        std::FILE* f = std::fopen((dir / "adapter_config.json").c_str(), "wb");
        if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
            std::perror("adapter_config.json");
            std::abort();
        }
    }
    ftfuzz::expectOnlyFtErrors([&] {
        const ft::peft::PeftSettings s = ft::peft::readAdapterSettings(dir.string());
        const ft::peft::Technique& t = ft::peft::technique(s.technique);  // what was read names a technique
        for (const ft::model::ModelConfig& c : shapes()) {
            (void)ft::peft::targetsOrDefault(s, c);
            try {
                (void)t.estimate(c, s);
            } catch (const ft::Error&) {  // targets that match no module of this shape: refused, as a run would be
            }
        }
        // What a saved adapter holds reads back as the same settings, with no complaint.
        const nlohmann::json written = ft::peft::settingsToJson(s);
        std::vector<std::string> errors;
        const ft::peft::PeftSettings back = ft::peft::settingsFromJson(written, "ftstudio", errors);
        if (!errors.empty() || ft::peft::settingsToJson(back) != written) {
            std::fprintf(stderr, "settings read from adapter_config.json do not read back: %s\n%s\n",
                         written.dump().c_str(), errors.empty() ? "" : errors[0].c_str());
            std::abort();
        }
    });
    return 0;
}
