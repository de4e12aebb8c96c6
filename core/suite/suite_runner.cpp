#include "suite/suite_runner.h"

#include "eval/verifiers.h"
#include "model/eval_mode.h"
#include "model/generator.h"
#include "suite/likelihood.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"
#include "train/model_template_format.h"
#include "train/prompt_format.h"
#include "util/error.h"
#include "util/stopwatch.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>

namespace ft::suite {

std::unique_ptr<train::PromptFormat> promptFormatNamed(const std::string& name, const std::string& modelDir,
                                                       std::string& resolvedName)
{
    std::string n = name.empty() ? std::string("auto") : name;
    if (n == "auto")
        n = tok::ChatTemplate::fromTokenizerConfig(modelDir).isDefault() ? "none" : "model";
    resolvedName = n;
    if (n == "none")
        return nullptr;
    try {
        return train::promptFormatFor(n, modelDir);
    } catch (const ft::Error&) {
        if (n == "model")
            throw;  // the folder's template itself is at fault: its message says why
        fail("unknown prompt template '" + n + "'; known: auto, none, model, " + train::promptFormatList());
    }
}

std::unique_ptr<train::PromptFormat> resolvePromptFormat(const std::string& name, const eval::Suite& suite,
                                                         const std::string& modelDir, std::string& resolvedName)
{
    const std::string n = name.empty() || name == "auto" ? suite.templateHint : name;
    return promptFormatNamed(n, modelDir, resolvedName);
}

std::string renderUserPrompt(const std::string& user, const std::string& input, const train::PromptFormat* format)
{
    if (!format)
        return input.empty() ? user : user + "\n" + input;
    nlohmann::json fields{{"instruction", user}, {"output", "x"}};
    if (!input.empty())
        fields["input"] = input;
    std::string prompt;
    for (const train::Segment& s : format->render(data::DatasetKind::Instruction, fields)) {
        if (s.trainable)
            break;
        prompt += s.text;
    }
    return prompt;
}

std::string renderItemPrompt(const eval::SuiteItem& item, const train::PromptFormat* format)
{
    return item.choices.empty() ? renderUserPrompt(item.prompt, item.input, format)
                                : renderUserPrompt(item.context, std::string(), format);
}

namespace {

std::vector<int64_t> promptIds(const tok::Tokenizer& tokenizer, const std::string& text)
{
    std::vector<int64_t> ids;
    for (int id : tokenizer.encode(text, tokenizer.addsBosByDefault(), false))
        ids.push_back(id);
    return ids;
}

// Unicode code points, as Python's len() counts a choice for acc_norm.
size_t codePoints(const std::string& s)
{
    return size_t(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

} // namespace

SuiteResult runSuite(model::LoadedModel& loaded, const tok::Tokenizer& tokenizer, const eval::Suite& suite,
                     const SuiteOptions& options)
{
    const auto started = util::Clock::now();
    SuiteResult result;
    const std::unique_ptr<train::PromptFormat> format =
        suite.kind == eval::SuiteKind::Perplexity ? nullptr
                                                  : resolvePromptFormat(options.templateName, suite, loaded.dir, result.templateUsed);
    if (suite.kind == eval::SuiteKind::Perplexity)
        result.templateUsed = "none";
    const int64_t total = options.limit > 0 ? std::min<int64_t>(options.limit, int64_t(suite.items.size()))
                                            : int64_t(suite.items.size());
    std::map<std::string, std::unique_ptr<eval::Verifier>> verifiers;  // by name + settings
    model::EvalModeGuard evalMode(*loaded.model);
    torch::NoGradGuard noGrad;
    for (int64_t i = 0; i < total; ++i) {
        const eval::SuiteItem& item = suite.items[size_t(i)];
        ItemResult r;
        r.item = &item;
        try {
            switch (suite.kind) {
            case eval::SuiteKind::Generation: {
                r.prompt = renderItemPrompt(item, format.get());
                r.expected = item.reference;
                const std::string key = item.verifier + "\n" + item.verifierSettings.dump();
                auto& verifier = verifiers[key];
                if (!verifier)
                    verifier = eval::makeVerifier(item.verifier, item.verifierSettings);
                model::GenerationOptions g;
                g.maxNewTokens = options.maxNewTokens > 0 ? options.maxNewTokens : suite.maxNewTokens;
                g.stopStrings = suite.stop;
                const auto out = model::generateText(loaded.model, tokenizer, loaded.generation,
                                                     promptIds(tokenizer, r.prompt), g);
                r.answer = out.text;
                const eval::VerifyResult v = verifier->score(out.text, item.reference);
                r.score.passed = v.passed;
                r.score.reward = v.reward;
                r.detail = v.detail;
                break;
            }
            case eval::SuiteKind::MultipleChoice: {
                r.prompt = renderItemPrompt(item, format.get());
                r.expected = item.choices[size_t(item.answer)];
                const auto scores = continuationLogLikelihoods(loaded.model, tokenizer, r.prompt, item.choices);
                size_t best = 0, bestNorm = 0;
                for (size_t c = 0; c < scores.size(); ++c) {
                    r.logLikelihoods.push_back(scores[c].logLikelihood);
                    // numpy's argmax: the first of equal maxima
                    if (scores[c].logLikelihood > scores[best].logLikelihood)
                        best = c;
                    const double norm = scores[c].logLikelihood / double(std::max<size_t>(1, codePoints(item.choices[c])));
                    const double bestNormValue = scores[bestNorm].logLikelihood /
                                                 double(std::max<size_t>(1, codePoints(item.choices[bestNorm])));
                    if (norm > bestNormValue)
                        bestNorm = c;
                }
                r.answer = item.choices[best];
                r.score.passed = int(best) == item.answer;
                r.score.passedNorm = int(bestNorm) == item.answer;
                r.detail = "acc_norm picks \"" + item.choices[bestNorm] + "\"";
                break;
            }
            case eval::SuiteKind::Perplexity: {
                r.prompt = item.text;
                const TextScore s = textNegativeLogLikelihood(loaded.model, tokenizer, item.text);
                r.score.nll = s.nll;
                r.score.tokens = s.tokens;
                r.detail = std::to_string(s.tokens) + " tokens";
                break;
            }
            }
        } catch (const ft::Error& e) {
            fail(suite.origin + ":" + std::to_string(item.line) + " (" + item.id + "): " + e.what());
        }
        result.items.push_back(std::move(r));
        if (options.progress && !options.progress(i + 1, total)) {
            result.cancelled = i + 1 < total;
            break;
        }
    }
    if (!result.items.empty()) {
        std::vector<eval::ItemScore> scores;
        for (const auto& r : result.items)
            scores.push_back(r.score);
        result.metrics = eval::suiteMetrics(suite.kind, scores);
    }
    result.seconds = util::secondsSince(started);
    return result;
}

nlohmann::json suiteResultJson(const eval::Suite& suite, const SuiteResult& result)
{
    nlohmann::json metrics = nlohmann::json::array(), items = nlohmann::json::array();
    for (const auto& m : result.metrics)
        metrics.push_back(eval::metricJson(m));
    for (const auto& r : result.items) {
        nlohmann::json j{{"id", r.item->id}, {"line", r.item->line}, {"prompt", r.prompt}};
        switch (suite.kind) {
        case eval::SuiteKind::Generation:
            j.update({{"expected", r.expected}, {"answer", r.answer}, {"passed", r.score.passed},
                      {"reward", r.score.reward}, {"detail", r.detail}});
            break;
        case eval::SuiteKind::MultipleChoice:
            j.update({{"expected", r.expected}, {"answer", r.answer}, {"passed", r.score.passed},
                      {"passed_norm", r.score.passedNorm}, {"choices", r.item->choices},
                      {"loglikelihoods", r.logLikelihoods}});
            break;
        case eval::SuiteKind::Perplexity:
            j.update({{"nll", r.score.nll}, {"tokens", r.score.tokens}});
            break;
        }
        if (!r.item->tags.empty())
            j["tags"] = r.item->tags;
        items.push_back(std::move(j));
    }
    return {{"template", result.templateUsed}, {"cancelled", result.cancelled}, {"seconds", result.seconds},
            {"metrics", metrics}, {"items", items}};
}

} // namespace ft::suite
