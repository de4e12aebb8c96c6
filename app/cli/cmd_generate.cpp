// ftstudio-cli generate: load a model folder and stream a continuation of a
// prompt to stdout (greedy at temperature 0, else seeded sampling).
#include "cli/commands.h"
#include "util/text.h"
#include "cli/common_options.h"

#include "model/generator.h"
#include "suite/suite_runner.h"
#include "train/prompt_format.h"
#include "peft/adapter_io.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace ftcli {

namespace {
std::string joinIds(const std::vector<int64_t>& ids)
{
    std::string s;
    for (int64_t id : ids)
        s += (s.empty() ? "" : " ") + std::to_string(id);
    return s;
}
} // namespace

int runGenerate(int argc, char** argv)
{
    ArgParser p("generate", "Generate text from a model, streaming it to stdout as it is produced.");
    addModelOption(p);
    p.option("prompt", "TEXT", "the prompt (required); \\n in TEXT stands for a newline");
    p.option("max-new-tokens", "N", "stop after N new tokens", "64");
    p.option("temperature", "T", "0 = greedy; higher = more random", "0");
    p.option("top-k", "K", "sample among the K most likely tokens, 0 = off", "0");
    p.option("top-p", "P", "sample from the smallest set holding probability P, 1 = off", "1");
    p.option("repetition-penalty", "R", "discourage tokens already present, 1 = off", "1");
    p.option("seed", "N", "random seed for sampling", "0");
    p.repeatable("stop", "STR", "stop when the output contains STR");
    p.flag("no-eos-stop", "keep going past the end-of-sequence token");
    p.flag("show-ids", "print the prompt's and the output's token ids");
    p.option("adapter", "DIR", "apply this adapter folder (PEFT layout) on top of the model");
    p.option("template", "NAME",
             "render the prompt as a one-turn user message first: model (the model's chat template), alpaca, "
             "chatml, plain, auto (the model's chat template when it has one, else none); none = the raw prompt",
             "none");
    p.flag("show-prompt", "print the prompt as the model sees it on stderr (one line: rendered prompt: \"...\")");
    p.flag("no-echo", "do not print the prompt before the generated text");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    if (!p.has("prompt"))
        throw UsageError("--prompt is required");
    const std::string prompt = ft::util::unescapeNewlines(p.get("prompt"));

    ft::model::GenerationOptions options;
    options.maxNewTokens = p.getInt("max-new-tokens");
    if (options.maxNewTokens <= 0)
        throw UsageError("--max-new-tokens must be positive");
    options.sampling.temperature = p.getDouble("temperature");
    options.sampling.topK = p.getInt("top-k");
    options.sampling.topP = p.getDouble("top-p");
    options.sampling.repetitionPenalty = p.getDouble("repetition-penalty");
    options.sampling.seed = static_cast<uint64_t>(p.getInt("seed"));
    options.stopStrings = p.getAll("stop");
    options.stopAtEos = !p.has("no-eos-stop");
    requireValidSampling(options.sampling);
    const Runtime rt = applyRuntimeOptions(p);
    const std::string dir = modelDirFrom(p);

    auto tokenizer = ft::tok::loadTokenizer(dir);
    ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {rt.dtype, rt.device});
    const auto adapter = loadAdapterOption(p, loaded, *tokenizer, rt);
    // With a template the prompt becomes what an instruction-tuned model expects (as SFT
    // renders the prompt side of a row, the assistant turn opened), without EOS.
    std::string rendered = prompt;
    const std::string templateName = p.get("template");
    if (templateName != "none") {
        std::string resolved;
        const auto format = ft::suite::promptFormatNamed(templateName, dir, resolved);
        rendered = ft::suite::renderUserPrompt(prompt, std::string(), format.get());
    }
    if (p.has("show-prompt")) {
        std::fprintf(stderr, "rendered prompt: %s\n",
                     nlohmann::json(rendered).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        std::fflush(stderr);
    }
    std::vector<int64_t> promptIds;
    const std::vector<int> encoded = templateName == "none"
                                         ? tokenizer->encodeForModel(rendered)
                                         : tokenizer->encode(rendered, tokenizer->addsBosByDefault(), false);
    for (int id : encoded)
        promptIds.push_back(id);

    if (!p.has("no-echo")) {
        std::fputs(rendered.c_str(), stdout);
        std::fflush(stdout);
    }
    const auto result = ft::model::generateText(loaded.model, *tokenizer, loaded.generation, promptIds, options,
                                                [](const std::string& piece) {
                                                    std::fputs(piece.c_str(), stdout);
                                                    std::fflush(stdout);
                                                    return true;
                                                });
    std::fputs("\n", stdout);
    if (p.has("show-ids")) {
        std::printf("prompt ids: %s\n", joinIds(result.promptIds).c_str());
        std::printf("output ids: %s\n", joinIds(result.outputIds).c_str());
    }
    std::fflush(stdout);  // the summary on stderr must follow the text, also when both go to one pipe
    const double tps = result.decodeSeconds > 0 ? double(result.outputIds.size()) / result.decodeSeconds : 0;
    std::fprintf(stderr, "[%zu prompt + %zu new tokens, stopped: %s, %.1f tokens/s]\n", result.promptIds.size(),
                 result.outputIds.size(), result.stopReason.c_str(), tps);
    return 0;
}

} // namespace ftcli
