// Running an evaluation suite (eval/suite.h) on one model (with its adapter already
// applied): each item scored, the metrics with their intervals, and what a person needs
// to check an item by hand (the rendered prompt, the expected answer, the model's). The
// CLI's `eval` and a training run's suite evaluation call this. Not here: loading models
// or adapters, printing (app/cli/cmd_eval.cpp).
#pragma once

#include "eval/suite.h"
#include "model/model_io.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ft::tok {
class Tokenizer;
}
namespace ft::train {
class PromptFormat;
}

namespace ft::suite {

struct ItemResult {
    const eval::SuiteItem* item = nullptr;
    eval::ItemScore score;
    std::string prompt;    // what the model was given (rendered prompt, context, or the text)
    std::string expected;  // the reference, or the right choice
    std::string answer;    // the model's answer: generated text, or the choice it ranks first
    std::string detail;    // the verifier's reason; for choices "acc_norm picks ..."
    std::vector<double> logLikelihoods;  // multiple choice, one per choice
};

struct SuiteOptions {
    // The prompt format for generation prompts and multiple-choice contexts: "auto"
    // (the suite's template when it names one, else the model's own chat template when
    // its folder has one, else none), "none" (the raw text), "model", "alpaca",
    // "chatml", "plain". Perplexity texts are never templated.
    std::string templateName = "auto";
    int64_t limit = 0;         // score the first N items only; 0 = all
    int64_t maxNewTokens = 0;  // generation; 0 = the suite's
    // Called after each item with (done, total); return false to stop (the result then
    // holds the items done, `cancelled` set).
    std::function<bool(int64_t, int64_t)> progress;
};

struct SuiteResult {
    std::string templateUsed;  // the resolved prompt format ("none", "alpaca", ...)
    std::vector<ItemResult> items;
    std::vector<eval::Metric> metrics;  // empty when cancelled before the first item
    bool cancelled = false;
    double seconds = 0;
};

// The prompt format `name` names for a model folder: "auto" (the folder's chat template
// when it has one, else none), "none" (null), "model", "alpaca", "chatml", "plain";
// `resolvedName` says which. ft::Error for an unknown name (listing them) or a model
// template that cannot run.
std::unique_ptr<train::PromptFormat> promptFormatNamed(const std::string& name, const std::string& modelDir,
                                                       std::string& resolvedName);
// The same for a suite: "auto" first takes the suite's own template.
std::unique_ptr<train::PromptFormat> resolvePromptFormat(const std::string& name, const eval::Suite& suite,
                                                         const std::string& modelDir, std::string& resolvedName);

// What the model is given for a one-turn user message under `format`, exactly as SFT
// renders the prompt side of an instruction row (null format: the raw text, `input` after
// a newline).
std::string renderUserPrompt(const std::string& user, const std::string& input, const train::PromptFormat* format);
// A generation item's prompt (with its input) or a multiple-choice item's context.
std::string renderItemPrompt(const eval::SuiteItem& item, const train::PromptFormat* format);

SuiteResult runSuite(model::LoadedModel& loaded, const tok::Tokenizer& tokenizer, const eval::Suite& suite,
                     const SuiteOptions& options);

// The result as JSON: {"template", "cancelled", "seconds", "metrics": [..], "items": [{"id",
// "line", "prompt", "expected", "answer", "passed", ...}]}.
nlohmann::json suiteResultJson(const eval::Suite& suite, const SuiteResult& result);

} // namespace ft::suite
