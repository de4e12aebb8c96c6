// ftstudio-cli make-base: build the embedded tiny base model (tokenizer and
// pretraining on the shipped corpus) into the user's data folder, with progress.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "base/make_base.h"
#include "model/runtime.h"
#include "util/paths.h"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace ftcli {

int runMakeBase(int argc, char** argv)
{
    const auto recipe = ft::base::defaultBaseRecipe();
    ArgParser p("make-base",
                "Build the embedded base model: train a sentencepiece tokenizer on datasets/base_corpus and pretrain a "
                "small Llama model on it. Reuses a complete model already in place unless --force.");
    p.option("out", "DIR", "where to write the model folder", ft::defaultBaseModelDir());
    p.option("corpus", "DIR",
             "corpus folder holding train.txt and heldout.txt (default: base_corpus in the shipped datasets folder, "
             "see --version)");
    p.option("steps", "N", "pretraining steps", std::to_string(recipe.pretrain.steps));
    p.flag("force", "rebuild even if a complete model is there");
    p.option("threads", "N", "intra-op CPU threads, 0 = all cores", "0");
    p.option("hidden", "N", "hidden size (a multiple of 32; heads of 32, half as many key/value heads, MLP 8/3 wide)",
             std::to_string(recipe.config.hiddenSize));
    p.option("layers", "N", "decoder layers", std::to_string(recipe.config.numHiddenLayers));
    p.option("vocab", "N", "tokenizer pieces", std::to_string(recipe.tokenizerVocab));
    p.option("seq-len", "N", "pretraining sequence length", std::to_string(recipe.pretrain.seqLen));
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    auto r = recipe;
    r.pretrain.steps = p.getInt("steps");
    if (r.pretrain.steps <= 0)
        throw UsageError("--steps must be positive");
    if (p.has("hidden")) {  // the default recipe's own shape (2 KV heads of 6) stays as it is otherwise
        const int64_t hidden = p.getInt("hidden");
        if (hidden < 32 || hidden % 32 != 0)
            throw UsageError("--hidden must be a positive multiple of 32");
        ft::base::setHiddenSize(r, hidden);
    }
    r.config.numHiddenLayers = p.getInt("layers");
    if (r.config.numHiddenLayers <= 0)
        throw UsageError("--layers must be positive");
    const int64_t vocab = p.getInt("vocab");
    if (vocab < 64 || vocab > 1000000)
        throw UsageError("--vocab must be between 64 and 1000000");
    r.tokenizerVocab = static_cast<int>(vocab);
    r.config.vocabSize = vocab;
    r.pretrain.seqLen = p.getInt("seq-len");
    if (r.pretrain.seqLen < 8 || r.pretrain.seqLen > r.config.maxPositionEmbeddings)
        throw UsageError("--seq-len must be between 8 and " + std::to_string(r.config.maxPositionEmbeddings));
    const int threads = ft::configureThreads(static_cast<int>(p.getInt("threads")));
    const std::string corpus = p.has("corpus") ? p.get("corpus") : ft::datasetsDir() + "/base_corpus";
    const bool tty = isatty(fileno(stderr));

    auto log = [](const std::string& line) { std::fprintf(stderr, "make-base: %s\n", line.c_str()); };
    const int64_t every = std::max<int64_t>(1, r.pretrain.steps / 20);
    auto progress = [&](const ft::train::PretrainProgress& s) {
        if (!tty && s.step % every != 0 && s.step != s.steps)
            return;
        std::fprintf(stderr, "%sstep %5lld/%lld  loss %.3f  lr %.2e  %.0f tok/s  elapsed %3.0fs  eta %3.0fs%s",
                     tty ? "\r" : "make-base: ", (long long)s.step, (long long)s.steps, s.loss, s.learningRate,
                     s.tokensPerSecond, s.elapsedSeconds, s.etaSeconds, tty ? "   " : "\n");
        if (tty && s.step == s.steps)
            std::fputc('\n', stderr);
    };
    const std::string out = p.get("out");
    if (!p.has("force") && ft::base::baseModelReady(out))
        log("reusing the base model in " + out + " (--force rebuilds it)");
    else
        log("building into " + out + " with " + std::to_string(threads) + " threads");
    const auto report = ft::base::makeBaseModel(out, corpus, r, p.has("force"), log, progress);
    if (!report.reused)
        std::fprintf(stderr, "make-base: held-out loss %.3f -> %.3f; tokenizer %.0fs, pretraining %.0fs\n",
                     report.initialHeldoutLoss, report.heldoutLoss, report.tokenizerSeconds, report.pretrainSeconds);
    std::printf("base model: %s\nparameters: %lld\nheld-out perplexity: %.2f\n", report.dir.c_str(),
                (long long)report.parameters, report.heldoutPerplexity);
    return 0;
}

} // namespace ftcli
