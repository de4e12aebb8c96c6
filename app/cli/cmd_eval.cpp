// ftstudio-cli eval: a model and each of its adapters scored on evaluation suites
// (eval/suite.h), side by side, each metric with its 95 % interval; per-item answers in
// the JSON (--out, --json) and with --items. --project stores each result in the
// project's evaluations table, where the studio's Evaluate view reads it.
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "data/project_store.h"
#include "eval/suite.h"
#include "model/model_io.h"
#include "peft/adapter.h"
#include "peft/adapter_io.h"
#include "suite/suite_runner.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <unistd.h>

namespace ftcli {

namespace {

// The evaluations table's name for these results; the JSON holds suite, file, kind,
// base_model, batch (shared by one invocation's results), model and result.
constexpr const char* kEvaluationName = "eval";

std::string metricCell(const ft::eval::Metric& m)
{
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", m.value, m.low, m.high);
    return buf;
}

void printTable(const ft::eval::Suite& suite, const nlohmann::json& results, bool showItems)
{
    std::printf("suite %s: %s, %zu items scored, template %s (%s)\n", suite.name.c_str(),
                ft::eval::suiteKindName(suite.kind), results[0]["items"].size(),
                results[0]["template"].get<std::string>().c_str(), suite.origin.c_str());
    size_t width = 5;
    for (const auto& r : results)
        width = std::max(width, r["model"].get<std::string>().size());
    std::printf("  %-*s", int(width), "model");
    for (const auto& m : results[0]["metrics"])
        std::printf("  %-26s", m["name"].get<std::string>().c_str());
    std::printf("\n");
    for (const auto& r : results) {
        std::printf("  %-*s", int(width), r["model"].get<std::string>().c_str());
        for (const auto& mj : r["metrics"]) {
            ft::eval::Metric m{mj["name"], mj["value"], mj["low"], mj["high"], mj["n"]};
            std::printf("  %-26s", metricCell(m).c_str());
        }
        std::printf("%s\n", r["cancelled"].get<bool>() ? "  (cancelled)" : "");
    }
    if (!showItems || suite.kind == ft::eval::SuiteKind::Perplexity)
        return;
    std::printf("  items (expected | each model's answer, + passed, - failed):\n");
    const auto& first = results[0]["items"];
    for (size_t i = 0; i < first.size(); ++i) {
        std::string prompt = first[i]["prompt"].get<std::string>();
        for (auto& c : prompt)
            if (c == '\n')
                c = ' ';
        std::printf("  %s  %s\n    expected: %s\n", first[i]["id"].get<std::string>().c_str(), prompt.c_str(),
                    first[i]["expected"].get<std::string>().c_str());
        for (const auto& r : results) {
            if (i >= r["items"].size())
                continue;
            const auto& it = r["items"][i];
            std::string answer = it["answer"].get<std::string>();
            for (auto& c : answer)
                if (c == '\n')
                    c = ' ';
            std::printf("    %c %-*s %s\n", it["passed"].get<bool>() ? '+' : '-', int(width),
                        r["model"].get<std::string>().c_str(), answer.c_str());
        }
    }
}

} // namespace

int runEval(int argc, char** argv)
{
    ArgParser p("eval",
                "Score a model and each adapter on evaluation suites, side by side: generation suites by their "
                "verifiers (pass rate), multiple-choice suites by log-likelihood (acc, acc_norm as "
                "lm-evaluation-harness), perplexity suites per token; each metric with its 95% interval. "
                "Suite format: docs/evaluation.md.");
    addModelOption(p);
    p.repeatable("adapter", "DIR", "also score the model with this adapter (PEFT layout); repeat for several");
    p.flag("no-base", "score the adapters only, not the model without them");
    p.repeatable("suite", "FILE|NAME", "a suite file (JSONL) or a shipped suite's name; repeat for several");
    p.flag("list-suites", "list the shipped suites and exit");
    p.option("split", "NAME", "only rows of this split (e.g. eval: a dataset's held-out rows as a regression suite)");
    p.option("limit", "N", "score the first N items of each suite (0 = all)", "0");
    p.option("template", "NAME",
             "prompt format for prompts and contexts: auto (the suite's, else the model's chat template when it "
             "has one, else none), none, model, alpaca, chatml, plain",
             "auto");
    p.option("max-new-tokens", "N", "generation suites: stop answers after N tokens (0 = the suite's)", "0");
    p.option("out", "FILE", "write the results, with every item, as JSON");
    p.flag("json", "print the results as JSON instead of the table");
    p.flag("items", "print each item: prompt, expected answer and each model's answer");
    p.option("project", "FILE", "store each result in this project's evaluations (the studio's Evaluate view)");
    p.option("run-id", "N", "with --project: the run the adapter came from", "0");
    p.flag("progress", "print one JSON line per scored item on stderr ({\"done\", \"total\", ...})");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    if (p.has("list-suites")) {
        for (const std::string& name : ft::eval::shippedSuites()) {
            const ft::eval::Suite s = ft::eval::loadSuite(ft::eval::findSuite(name));
            std::printf("%-20s %-16s %4zu items  %s\n", name.c_str(), ft::eval::suiteKindName(s.kind), s.items.size(),
                        s.origin.c_str());
        }
        return 0;
    }
    const std::vector<std::string> suiteNames = p.getAll("suite");
    if (suiteNames.empty())
        throw UsageError("--suite is required (a JSONL file or a shipped suite: --list-suites)");
    const int64_t limit = p.getInt("limit"), maxNew = p.getInt("max-new-tokens"), runId = p.getInt("run-id");
    if (limit < 0 || maxNew < 0 || runId < 0)
        throw UsageError("--limit, --max-new-tokens and --run-id must not be negative");
    const std::vector<std::string> adapters = p.getAll("adapter");
    if (p.has("no-base") && adapters.empty())
        throw UsageError("--no-base needs at least one --adapter");

    std::vector<ft::eval::Suite> suites;
    for (const std::string& name : suiteNames)
        suites.push_back(ft::eval::loadSuite(ft::eval::findSuite(name), p.has("split") ? p.get("split") : ""));
    std::unique_ptr<ft::data::ProjectStore> project;
    if (p.has("project"))
        project = openProject(p.get("project"));
    // The results of one invocation share a batch, so a reader can put them side by side.
    const std::string batch = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count()) +
                              "-" + std::to_string(::getpid());

    const Runtime rt = applyRuntimeOptions(p);
    const std::string dir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(dir);
    std::vector<std::string> models;  // "" = the base
    if (!p.has("no-base"))
        models.push_back("");
    models.insert(models.end(), adapters.begin(), adapters.end());

    std::vector<nlohmann::json> perSuite(suites.size(), nlohmann::json::array());
    bool cancelled = false;
    for (const std::string& adapterDir : models) {
        // A fresh copy of the base for each adapter: nothing of one adapter stays in the next.
        ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {rt.dtype, rt.device});
        std::unique_ptr<ft::peft::Adapter> adapter;
        if (!adapterDir.empty()) {
            ft::peft::ApplyContext context{tokenizer.get()};
            adapter = ft::peft::loadAdapter(adapterDir, loaded.model, "default", context);
            loaded.model->to(rt.device);
        }
        const std::string label = adapterDir.empty() ? "base" : adapterDir;
        for (size_t s = 0; s < suites.size(); ++s) {
            ft::suite::SuiteOptions options;
            options.templateName = p.get("template");
            options.limit = limit;
            options.maxNewTokens = maxNew;
            if (p.has("progress"))
                options.progress = [&](int64_t done, int64_t total) {
                    std::fprintf(stderr, "%s\n",
                                 nlohmann::json{{"done", done}, {"total", total}, {"model", label},
                                                {"suite", suites[s].name}}
                                     .dump()
                                     .c_str());
                    std::fflush(stderr);
                    return true;
                };
            const ft::suite::SuiteResult result = ft::suite::runSuite(loaded, *tokenizer, suites[s], options);
            cancelled = cancelled || result.cancelled;
            nlohmann::json j = ft::suite::suiteResultJson(suites[s], result);
            j["model"] = label;
            j["adapter"] = adapterDir.empty() ? nlohmann::json(nullptr) : nlohmann::json(adapterDir);
            if (project) {
                const nlohmann::json stored{{"suite", suites[s].name},
                                            {"file", suites[s].origin},
                                            {"kind", ft::eval::suiteKindName(suites[s].kind)},
                                            {"base_model", dir},
                                            {"batch", batch},
                                            {"model", label},
                                            {"result", j}};
                project->addEvaluation(runId > 0 && !adapterDir.empty() ? std::optional<int64_t>(runId) : std::nullopt,
                                       kEvaluationName, stored.dump());
            }
            perSuite[s].push_back(std::move(j));
        }
    }
    nlohmann::json all{{"model", dir}, {"suites", nlohmann::json::array()}};
    for (size_t s = 0; s < suites.size(); ++s)
        all["suites"].push_back({{"name", suites[s].name},
                                 {"file", suites[s].origin},
                                 {"kind", ft::eval::suiteKindName(suites[s].kind)},
                                 {"results", perSuite[s]}});
    if (p.has("out")) {
        std::ofstream out(p.get("out"), std::ios::binary | std::ios::trunc);
        if (!out)
            ft::fail("cannot write --out '" + p.get("out") + "'");
        out << all.dump(1) << "\n";
        if (!out.flush())
            ft::fail("cannot write --out '" + p.get("out") + "' (disk full?)");
    }
    if (p.has("json")) {
        std::cout << all.dump() << "\n";
        return 0;
    }
    for (size_t s = 0; s < suites.size(); ++s) {
        if (s > 0)
            std::printf("\n");
        printTable(suites[s], perSuite[s], p.has("items"));
    }
    return cancelled ? 1 : 0;
}

} // namespace ftcli
