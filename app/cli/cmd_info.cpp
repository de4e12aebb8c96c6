// ftstudio-cli info: what a model folder holds, read from config.json and the
// safetensors headers only (no weights are loaded, so it is quick on any size).
#include "cli/commands.h"
#include "cli/common_options.h"

#include "io/safetensors.h"
#include "model/architecture.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>


namespace ftcli {

int runInfo(int argc, char** argv)
{
    // A .gguf file, given as `info FILE.gguf` or `info --model FILE.gguf`.
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a.size() > 5 && a.ends_with(".gguf") && (i == 2 || std::string(argv[i - 1]) == "--model")) {
            bool json = false;
            for (int k = 2; k < argc; ++k)
                json = json || std::string(argv[k]) == "--json";
            return runGgufInfo(a, json);
        }
    }
    ArgParser p("info", "Describe a model folder: architecture, shapes, parameters, stored dtype and a memory estimate. "
                           "A .gguf file (info FILE.gguf): its metadata, tensor types and tokenizer.");
    addModelOption(p);
    p.flag("json", "print one JSON object instead of text");
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dir = modelDirFrom(p);
    const auto config = ft::model::readModelConfig(ft::model::requireModelFolder(dir));
    const auto checkpoint = ft::io::SafetensorsCheckpoint::open(dir);
    int64_t stored = 0, bytes = 0, otherValues = 0, otherTensors = 0;
    std::map<std::string, int64_t> byDtype;
    const auto layout = ft::model::textLayoutOf(config, checkpoint);
    for (const std::string& n : checkpoint.names()) {
        const auto& t = checkpoint.get(n);
        if (!ft::model::isTextTensor(n, layout)) {  // a multimodal folder's vision tower, kept as it is
            otherValues += t.numel();
            ++otherTensors;
        } else {
            stored += t.numel();
        }
        bytes += static_cast<int64_t>(t.nbytes);
        byDtype[ft::io::dtypeName(t.dtype)] += t.numel();
    }
    const auto generation = ft::model::readGenerationDefaults(dir, config);
    const auto tokenizer = ft::tok::loadTokenizer(dir);
    const int64_t params = config.parameterCount();
    // K and V per layer per token, in the compute dtype.
    const double kvPerToken = 2.0 * config.numHiddenLayers * config.numKeyValueHeads * config.headDim;

    nlohmann::json j{
        {"model", dir},
        {"architecture", ft::model::archClassName(config.arch)},
        {"layers", config.numHiddenLayers},
        {"hidden_size", config.hiddenSize},
        {"intermediate_size", config.intermediateSize},
        {"attention_heads", config.numAttentionHeads},
        {"key_value_heads", config.numKeyValueHeads},
        {"head_dim", config.headDim},
        {"vocab_size", config.vocabSize},
        {"max_position_embeddings", config.maxPositionEmbeddings},
        {"rope_theta", config.ropeTheta},
        {"rope_scaling", config.ropeScaling.type.empty() ? "none" : config.ropeScaling.type},
        {"rotary_dim", config.rotaryDim()},
        {"tie_word_embeddings", config.tieWordEmbeddings},
        {"parameters", params},
        {"checkpoint_parameters", stored},
        {"checkpoint_bytes", bytes},
        {"checkpoint_files", checkpoint.files().size()},
        {"stored_dtypes", byDtype},
        {"tokenizer_vocab", tokenizer->vocabSize()},
        {"bos_token_id", generation.bosTokenId},
        {"eos_token_ids", generation.eosTokenIds},
        {"memory_fp32_bytes", params * 4},
        {"memory_bf16_bytes", params * 2},
        {"kv_cache_bytes_per_1k_tokens_fp32", kvPerToken * 1024 * 4},
        {"full_finetune_adamw_fp32_bytes", params * 16},
    };
    int64_t sparseLayers = 0;
    for (int64_t i = 0; i < config.numHiddenLayers; ++i)
        sparseLayers += config.layerIsSparse(i) ? 1 : 0;
    if (config.hasExperts())
        j["experts"] = {{"count", config.numExperts},
                        {"per_token", config.numExpertsPerTok},
                        {"intermediate_size", config.moeIntermediateSize},
                        {"sparse_layers", sparseLayers},
                        {"renormalize_top_k", config.normTopkProb},
                        {"router_aux_loss_coef", config.routerAuxLossCoef},
                        {"active_parameters", config.activeParameterCount()}};
    if (config.isMultimodal())
        j["multimodal"] = {{"model_type", config.multimodalType},
                           {"architecture", ft::model::architecture(config.arch).multimodal->className},
                           {"other_modality_tensors", otherTensors},
                           {"other_modality_parameters", otherValues}};
    if (p.has("json")) {
        std::cout << j.dump(2) << '\n';
        return 0;
    }
    std::string dtypes;
    for (const auto& [name, count] : byDtype)
        dtypes += (dtypes.empty() ? "" : ", ") + name + " (" + formatCount(double(count)) + ")";
    std::printf("model          %s\n", dir.c_str());
    if (config.isMultimodal()) {
        std::printf("architecture   %s, whose language model is a %s\n",
                    ft::model::architecture(config.arch).multimodal->className, ft::model::archClassName(config.arch));
        std::printf("multimodal     the studio runs and trains the language model; the other %s parameters (%lld "
                    "tensor%s: vision tower, projector) stay as they are and are written back with a merged model\n",
                    formatCount(double(otherValues)).c_str(), (long long)otherTensors, otherTensors == 1 ? "" : "s");
    } else {
        std::printf("architecture   %s\n", ft::model::archClassName(config.arch));
    }
    std::printf("layers         %lld, hidden %lld, MLP %lld\n", (long long)config.numHiddenLayers,
                (long long)config.hiddenSize, (long long)config.intermediateSize);
    std::printf("attention      %lld heads, %lld key/value heads%s, head dim %lld\n", (long long)config.numAttentionHeads,
                (long long)config.numKeyValueHeads, config.numKeyValueHeads < config.numAttentionHeads ? " (GQA)" : "",
                (long long)config.headDim);
    std::string scaling = config.ropeScaling.type.empty() ? "none" : config.ropeScaling.type;
    if (config.ropeScaling.type == "longrope")
        scaling += " (long factors past " + std::to_string(config.ropeScaling.originalMaxPositionEmbeddings) +
                   " tokens, attention factor " + ft::util::formatNumber(config.ropeScaling.attentionFactor, 4) + ")";
    if (config.rotaryDim() < config.headDim)
        scaling += ", rotating " + std::to_string(config.rotaryDim()) + " of " + std::to_string(config.headDim) +
                   " head dims";
    if (config.hasExperts())
        std::printf("experts        %lld per sparse layer (%lld of %lld layers), top %lld per token%s, width %lld; "
                    "load-balancing coefficient %s\n",
                    (long long)config.numExperts, (long long)sparseLayers, (long long)config.numHiddenLayers,
                    (long long)config.numExpertsPerTok, config.normTopkProb ? " (renormalized)" : "",
                    (long long)config.moeIntermediateSize, ft::util::formatNumber(config.routerAuxLossCoef).c_str());
    std::printf("rope           theta %g, scaling %s, context %lld\n", config.ropeTheta, scaling.c_str(),
                (long long)config.maxPositionEmbeddings);
    std::printf("vocabulary     %lld (tokenizer %d, bos %lld, eos %s)\n", (long long)config.vocabSize,
                tokenizer->vocabSize(), (long long)generation.bosTokenId, j["eos_token_ids"].dump().c_str());
    std::printf("parameters     %s (%lld)%s%s\n", formatCount(double(params)).c_str(), (long long)params,
                config.tieWordEmbeddings ? ", embeddings tied" : "",
                config.hasExperts() ? (", " + formatCount(double(config.activeParameterCount())) + " active per token").c_str()
                                    : "");
    std::printf("checkpoint     %s in %zu file(s), %s\n", formatBytes(double(bytes)).c_str(), checkpoint.files().size(),
                dtypes.c_str());
    std::printf("memory         weights %s in fp32, %s in bf16; KV cache %s per 1k tokens (fp32)\n",
                formatBytes(params * 4.0).c_str(), formatBytes(params * 2.0).c_str(),
                formatBytes(kvPerToken * 1024 * 4).c_str());
    std::printf("               full fine-tuning with AdamW in fp32 needs about %s before activations\n",
                formatBytes(params * 16.0).c_str());
    if (stored != params)
        std::printf("note           the checkpoint holds %lld values, the config implies %lld\n", (long long)stored,
                    (long long)params);
    return 0;
}

} // namespace ftcli
