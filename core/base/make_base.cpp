#include "base/make_base.h"

#include "base/corpus.h"
#include "io/json_file.h"
#include "model/llama.h"
#include "model/model_io.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "train/lm_batch.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ft::base {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void writeTokenizerConfig(const fs::path& dir, int64_t maxLength)
{
    const nlohmann::json j{
        {"tokenizer_class", "LlamaTokenizer"},
        {"add_bos_token", true},
        {"add_eos_token", false},
        {"bos_token", "<s>"},
        {"eos_token", "</s>"},
        {"unk_token", "<unk>"},
        {"pad_token", nullptr},
        {"legacy", true},
        {"clean_up_tokenization_spaces", false},
        {"model_max_length", maxLength},
    };
    io::writeJsonFileAtomic((dir / "tokenizer_config.json").string(), j);
}

} // namespace

BaseRecipe defaultBaseRecipe()
{
    BaseRecipe r;
    model::ModelConfig& c = r.config;
    c.arch = model::Arch::Llama;
    c.vocabSize = r.tokenizerVocab;
    c.hiddenSize = 192;
    c.intermediateSize = 512;
    c.numHiddenLayers = 4;
    c.numAttentionHeads = 6;
    c.numKeyValueHeads = 2;  // grouped-query attention, as in current Llama models
    c.headDim = 32;
    c.maxPositionEmbeddings = 512;
    c.rmsNormEps = 1e-5;
    c.ropeTheta = 10000.0;
    c.tieWordEmbeddings = false;
    c.bosTokenId = 1;
    c.eosTokenId = 2;
    train::PretrainOptions& p = r.pretrain;
    p.steps = 600;
    p.batchSize = 16;
    p.seqLen = 128;
    p.learningRate = 3e-3;
    p.warmupSteps = 30;
    p.minLrRatio = 0.1;
    p.weightDecay = 0.1;
    p.seed = 20261128;
    p.evalBatchSize = 32;
    p.evalMaxBatches = 8;
    return r;
}

void setHiddenSize(BaseRecipe& recipe, int64_t hidden)
{
    model::ModelConfig& c = recipe.config;
    const int64_t heads = hidden / 32;
    c.hiddenSize = hidden;
    c.headDim = 32;
    c.numAttentionHeads = heads;
    c.numKeyValueHeads = heads % 2 == 0 ? heads / 2 : heads;
    c.intermediateSize = (hidden * 8 / 3 + 31) / 32 * 32;
}

bool baseModelReady(const std::string& dir)
{
    for (const char* f : {"config.json", "model.safetensors", "tokenizer.model", "tokenizer_config.json",
                          "generation_config.json", "base_info.json"})
        if (!fs::exists(fs::path(dir) / f))
            return false;
    return true;
}

MakeBaseReport makeBaseModel(const std::string& dir, const std::string& corpusDir, const BaseRecipe& recipe, bool force,
                             const LogFn& log, const ProgressFn& progress)
{
    MakeBaseReport report;
    report.dir = dir;
    if (!force && baseModelReady(dir)) {
        const nlohmann::json info = io::readJsonFile((fs::path(dir) / "base_info.json").string());
        report.reused = true;
        report.parameters = info.value("parameters", int64_t{0});
        report.heldoutLoss = info.value("heldout_loss", 0.0);
        report.heldoutPerplexity = info.value("heldout_perplexity", 0.0);
        report.initialHeldoutLoss = info.value("initial_heldout_loss", 0.0);
        return report;
    }
    const std::string trainPath = (fs::path(corpusDir) / "train.txt").string();
    const std::string heldoutPath = (fs::path(corpusDir) / "heldout.txt").string();
    const std::vector<std::string> trainDocs = readCorpusDocuments(trainPath);
    const std::vector<std::string> heldoutDocs = readCorpusDocuments(heldoutPath);
    log("corpus: " + std::to_string(trainDocs.size()) + " training documents, " + std::to_string(heldoutDocs.size()) +
        " held-out documents (" + corpusDir + ")");

    fs::path target = fs::absolute(dir).lexically_normal();
    if (target.filename().empty())  // "models/base/" names the folder "base"
        target = target.parent_path();
    fs::create_directories(target.parent_path());
    const fs::path work = target.parent_path() / (target.filename().string() + ".building-" + std::to_string(getpid()));
    fs::remove_all(work);
    fs::create_directories(work);
    try {
        // 1. Tokenizer: Llama-style sentencepiece BPE with byte fallback.
        auto t0 = std::chrono::steady_clock::now();
        log("training the tokenizer (sentencepiece BPE, vocabulary " + std::to_string(recipe.tokenizerVocab) + ")");
        tok::SpmTrainOptions spm;
        spm.inputFile = trainPath;
        spm.modelPrefix = (work / "tokenizer").string();
        spm.vocabSize = recipe.tokenizerVocab;
        spm.modelType = "bpe";
        spm.byteFallback = true;
        spm.splitDigits = true;
        spm.quiet = true;  // its per-merge log drowns the progress lines
        tok::trainSentencePiece(spm);
        fs::remove(work / "tokenizer.vocab");
        auto tokenizer = tok::SentencePieceTokenizer::load((work / "tokenizer.model").string());
        writeTokenizerConfig(work, recipe.config.maxPositionEmbeddings);
        report.tokenizerSeconds = secondsSince(t0);

        const std::vector<int64_t> trainStream = train::tokenStream(trainDocs, *tokenizer);
        const std::vector<int64_t> heldoutStream = train::tokenStream(heldoutDocs, *tokenizer);
        report.trainTokens = static_cast<int64_t>(trainStream.size());
        report.heldoutTokens = static_cast<int64_t>(heldoutStream.size());
        log("tokenized: " + std::to_string(report.trainTokens) + " training tokens, " +
            std::to_string(report.heldoutTokens) + " held-out tokens");

        // 2. Model: Hugging Face's initializer, then causal-LM pretraining.
        model::ModelConfig config = recipe.config;
        config.vocabSize = tokenizer->vocabSize();
        config.bosTokenId = tokenizer->bosId();
        config.eosTokenId = tokenizer->eosId();
        config.eosTokenIds = {config.eosTokenId};
        model::CausalLM lm(config);
        lm->initializeWeights(recipe.pretrain.seed);
        report.parameters = config.parameterCount();
        log("pretraining " + std::to_string(report.parameters) + " parameters for " +
            std::to_string(recipe.pretrain.steps) + " steps of " +
            std::to_string(recipe.pretrain.batchSize * recipe.pretrain.seqLen) + " tokens");
        const train::PretrainResult result = train::pretrain(lm, trainStream, heldoutStream, recipe.pretrain, progress);
        report.initialHeldoutLoss = result.initialHeldoutLoss;
        report.heldoutLoss = result.finalHeldoutLoss;
        report.heldoutPerplexity = std::exp(result.finalHeldoutLoss);
        report.pretrainSeconds = result.seconds;

        // 3. Save as a Hugging Face folder; base_info.json last marks it complete.
        model::GenerationDefaults gen{config.bosTokenId, {config.eosTokenId}};
        model::saveModelFolder(work.string(), lm, gen, c10::kFloat);
        const nlohmann::json info{
            {"name", "ftstudio-tiny-base"},
            {"parameters", report.parameters},
            {"corpus_train_fingerprint", fileFingerprint(trainPath)},
            {"train_tokens", report.trainTokens},
            {"heldout_tokens", report.heldoutTokens},
            {"steps", result.steps},
            {"tokens_seen", result.tokensSeen},
            {"initial_heldout_loss", result.initialHeldoutLoss},
            {"heldout_loss", result.finalHeldoutLoss},
            {"heldout_perplexity", report.heldoutPerplexity},
            {"final_train_loss", result.finalTrainLoss},
            {"pretrain_seconds", result.seconds},
            {"tokenizer_seconds", report.tokenizerSeconds},
        };
        io::writeJsonFileAtomic((work / "base_info.json").string(), info);

        fs::remove_all(target);
        fs::rename(work, target);
    } catch (...) {
        std::error_code ec;
        fs::remove_all(work, ec);
        throw;
    }
    return report;
}

} // namespace ft::base
