// Evaluation suites: what `ftstudio-cli eval` and the studio's Evaluate view score a
// model and its adapters on. A suite is a JSONL file, one item per line, of one kind:
//
//   generation       the model answers a prompt (greedy); a verifier (verifiers.h)
//                    scores the answer against the item's reference. Metric: pass rate.
//   multiple_choice  the choice with the highest log-likelihood given the context is the
//                    model's answer, as lm-evaluation-harness scores it: acc (argmax of
//                    the summed log-likelihood) and acc_norm (argmax of the summed
//                    log-likelihood divided by the choice's length in characters).
//   perplexity       the mean negative log-likelihood per token of each text (and its
//                    exponential, perplexity), weighted by tokens over the whole suite.
//
// docs/evaluation.md documents the format. Item layouts, detected per line:
//   generation:      {"prompt", "reference", "verifier"?, "verifier_settings"?}  (the
//                    RLVR layout of verifiable datasets); {"instruction", "input"?,
//                    "output"} (Alpaca: a dataset's held-out rows as a regression
//                    suite, scored by exact_match unless the header says otherwise)
//   multiple_choice: {"context"|"question", "choices": [..], "answer": index | choice
//                    text | letter}; ARC {"question", "choices": {"text", "label"},
//                    "answerKey"}; HellaSwag {"ctx", "endings", "label"}; MMLU
//                    {"question", "subject"?, "choices", "answer"}; TruthfulQA MC1
//                    {"question", "mc1_targets": {"choices", "labels"}}
//   perplexity:      {"text"}
// Any item may carry "id", "tags" and "split". An optional first line
// {"suite": {...}} names the suite and sets defaults: "name", "kind", "verifier",
// "verifier_settings", "max_new_tokens" (64), "stop" (strings that end an answer),
// "template" (the prompt format the suite was written for: "auto", "none", "model",
// "alpaca", "chatml", "plain"), "split" (rows of another split are left out; rows without one are kept).
//
// Torch-free: parsing and the metrics with their 95 % intervals. Not here: running a
// model (suite/suite_runner.h).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::eval {

enum class SuiteKind { Generation, MultipleChoice, Perplexity };
const char* suiteKindName(SuiteKind kind);  // "generation", "multiple_choice", "perplexity"

struct SuiteItem {
    int line = 0;             // 1-based line in the suite file
    std::string id;           // "id" when given, else "line N"
    std::string layout;       // the detected layout: "verifiable", "alpaca", "native", "arc", ...
    std::vector<std::string> tags;
    // generation
    std::string prompt, input, reference, verifier;  // input: an Alpaca row's "input"
    nlohmann::json verifierSettings = nlohmann::json::object();
    // multiple_choice: the text before each choice and the choices as they continue it
    // (lm-evaluation-harness: " " + choice after "Answer:")
    std::string context;
    std::vector<std::string> choices;
    int answer = -1;
    // perplexity
    std::string text;
};

struct Suite {
    std::string name;    // header "name", else the file's stem
    std::string origin;  // the file it was read from
    SuiteKind kind = SuiteKind::Generation;
    std::string templateHint = "auto";  // header "template"
    int64_t maxNewTokens = 64;
    std::vector<std::string> stop;
    std::vector<SuiteItem> items;
};

// Parses a suite; `origin` names it in errors ("FILE:LINE: ..."). ft::Error for a line
// that is not JSON, a layout that cannot be recognised (the keys the line has and the
// layouts there are), a missing or wrong-typed field (named), an answer outside the
// choices, an unknown verifier or bad settings, items of different kinds, and an
// empty suite. `split`, when not empty, overrides the header's split.
Suite parseSuite(const std::string& text, const std::string& origin, const std::string& split = {});
Suite loadSuite(const std::string& path, const std::string& split = {});

// A suite file by name or path: an existing path as is; otherwise NAME(.jsonl) in the
// shipped suites folder (datasets/suites). ft::Error listing the shipped suites.
std::string findSuite(const std::string& nameOrPath);
std::vector<std::string> shippedSuites();  // their names, sorted

// What one model did on one item.
struct ItemScore {
    bool passed = false;  // generation: the verifier passed; multiple choice: acc
    bool passedNorm = false;  // multiple choice: acc_norm
    double reward = 0;    // generation: the verifier's reward
    double nll = 0;       // perplexity: summed negative log-likelihood of the scored tokens
    int64_t tokens = 0;   // perplexity: tokens scored
};

struct Metric {
    std::string name;  // "pass", "reward", "acc", "acc_norm", "perplexity", "nll"
    double value = 0, low = 0, high = 0;  // value and its 95 % interval
    int64_t n = 0;     // items (tokens for nll and perplexity are in the detail)
    bool higherIsBetter = true;
};

// The metrics of one model on a suite, the first the suite's headline:
//   generation       pass (Wilson interval), reward (mean, normal interval)
//   multiple_choice  acc, acc_norm (Wilson intervals)
//   perplexity       perplexity and nll (token-weighted mean NLL; the interval is the
//                    ratio estimator's over items, delta method: with R = sum nll_i /
//                    sum t_i, se^2 = k / (k - 1) * sum (nll_i - R t_i)^2 / (sum t_i)^2,
//                    R +- 1.96 se; perplexity = exp of each end)
// ft::Error when the scores are empty.
std::vector<Metric> suiteMetrics(SuiteKind kind, const std::vector<ItemScore>& scores);

nlohmann::json metricJson(const Metric& m);

} // namespace ft::eval
