// ftstudio-cli data generate: synthetic data from a local model into a project dataset.
//   responses  one answer per prompt of a dataset (distillation from a bigger local
//              model): instruction rows {instruction: prompt, output: answer}
//   pairs      several sampled answers per prompt become a preference row (the on-policy
//              DPO recipe), ranked either by the row's verifier (verifiable rows: a
//              passing and a failing answer; prompts where all pass or all fail give
//              none) or, with --judge, by a judge model's round robin (any rows with a
//              prompt: the best and the worst answer, when the judge prefers the one to
//              the other at --judge-threshold)
// Each finished source row is committed at once and tagged "source:<id>" in the target,
// so a run that is cancelled or killed goes on where it stopped when run again (a prompt
// that gave no pair stores nothing and is tried again).
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "align/ai_judge.h"
#include "data/project_store.h"
#include "eval/verifiers.h"
#include "model/generator.h"
#include "model/model_io.h"
#include "peft/adapter.h"
#include "suite/suite_runner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/prompt_format.h"
#include "util/error.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <set>

namespace ftcli {

namespace {

std::string promptOf(const ft::data::Row& row, ft::data::DatasetKind kind)
{
    using ft::data::DatasetKind;
    const auto& f = row.fields;
    if (kind == DatasetKind::Instruction) {
        std::string p = f.value("instruction", std::string());
        if (const std::string in = f.value("input", std::string()); !in.empty())
            p += "\n" + in;
        return p;
    }
    if ((kind == DatasetKind::Verifiable || kind == DatasetKind::Preference || kind == DatasetKind::Unpaired) &&
        f.contains("prompt") && f["prompt"].is_string())
        return f["prompt"].get<std::string>();
    if (kind == DatasetKind::Chat && f.contains("messages"))
        for (const auto& m : f["messages"])
            if (m.value("role", std::string()) == "user")
                return m.value("content", std::string());  // the first user turn
    return {};
}

// Every row of a dataset, in id order (keyset pages of 1000).
std::vector<ft::data::Row> allRows(const ft::data::ProjectStore& store, int64_t datasetId)
{
    ft::data::RowQuery q;
    q.datasetId = datasetId;
    q.limit = 1000;
    std::vector<ft::data::Row> rows;
    for (std::vector<ft::data::Row> page; !(page = store.query(q)).empty(); q.afterId = page.back().id)
        rows.insert(rows.end(), page.begin(), page.end());
    return rows;
}

} // namespace

int runDataGenerate(int argc, char** argv)
{
    ArgParser p("data generate",
                "Generate a dataset with a local model: responses (one answer per prompt: distillation) or pairs "
                "(several sampled answers per prompt; a passing and a failing one by the row's verifier, or the "
                "best and the worst by a judge model with --judge, as a preference row). Rows are committed as "
                "they are made; running the same command again resumes.");
    p.option("project", "PATH", "the project file");
    p.option("from", "DATASET", "the prompts: instruction, chat, preference, unpaired or verifiable rows");
    p.option("to", "DATASET", "the dataset to fill (created when missing: instruction rows for responses, preference "
                              "rows for pairs)");
    p.option("mode", "MODE", "responses or pairs", "responses");
    addModelOption(p);
    p.option("adapter", "DIR", "apply this adapter folder (PEFT layout) on top of the model");
    p.option("template", "NAME", "how prompts reach the model: none, model, alpaca, chatml, plain, auto", "auto");
    p.option("samples", "N", "pairs: answers sampled per prompt", "4");
    p.option("judge", "DIR", "pairs: rank the answers with this judge model (a model folder; may be --model) "
                             "instead of the rows' verifiers");
    p.option("judge-adapter", "DIR", "an adapter to apply to the judge model");
    p.option("judge-template", "NAME", "prompt format of the judge's question: alpaca, chatml or plain", "alpaca");
    p.option("judge-threshold", "P", "keep a pair only when the judge prefers best to worst with at least this "
                                     "probability (0.5-1)", "0.6");
    p.option("max-new-tokens", "N", "longest answer", "128");
    p.option("temperature", "T", "sampling temperature (responses: 0 = greedy)", "0.8");
    p.option("top-p", "P", "nucleus sampling", "0.95");
    p.option("seed", "N", "seed of the first sample of each prompt", "1");
    p.option("limit", "N", "use at most the first N source rows (0 = all)", "0");
    p.flag("progress", "print one JSON line per source row on stderr ({\"done\", \"total\", \"made\"})");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string mode = p.get("mode");
    if (mode != "responses" && mode != "pairs")
        throw UsageError("--mode must be responses or pairs, not '" + mode + "'");
    const int64_t samples = p.getInt("samples"), maxNew = p.getInt("max-new-tokens"), limit = p.getInt("limit");
    if (samples < 2 && mode == "pairs")
        throw UsageError("--samples must be at least 2 for pairs");
    if (maxNew <= 0 || limit < 0)
        throw UsageError("--max-new-tokens must be positive and --limit not negative");
    const auto store = openProject(requireOption(p, "project"));
    const ft::data::DatasetInfo from = store->requireDataset(requireOption(p, "from"));
    const std::string toName = requireOption(p, "to");
    const bool byJudge = p.has("judge");
    if (byJudge && mode != "pairs")
        throw UsageError("--judge ranks the answers of --mode pairs");
    if (mode == "pairs" && !byJudge && from.kind != ft::data::DatasetKind::Verifiable)
        ft::fail("--mode pairs scores answers with each row's verifier: dataset '" + from.name + "' holds " +
                 ft::data::datasetKindName(from.kind) + " rows, not verifiable ones (give --judge DIR to rank them "
                 "with a judge model instead)");
    const double judgeThreshold = p.getDouble("judge-threshold");
    if (judgeThreshold < 0.5 || judgeThreshold > 1.0)
        throw UsageError("--judge-threshold must be between 0.5 and 1");
    const ft::data::DatasetKind toKind =
        mode == "pairs" ? ft::data::DatasetKind::Preference : ft::data::DatasetKind::Instruction;
    const auto existing = store->dataset(toName);
    if (existing && existing->kind != toKind)
        ft::fail("dataset '" + toName + "' holds " + ft::data::datasetKindName(existing->kind) + " rows; --mode " + mode +
                 " writes " + ft::data::datasetKindName(toKind) + " rows");

    const Runtime rt = applyRuntimeOptions(p);
    const std::string dir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(dir);
    ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {rt.dtype, rt.device});
    const auto adapter = loadAdapterOption(p, loaded, *tokenizer, rt);
    std::string resolved;
    const auto format = ft::suite::promptFormatNamed(p.get("template"), dir, resolved);
    // The judge: its own model, tokenizer and adapter (the generator's adapter never judges).
    std::unique_ptr<ft::tok::Tokenizer> judgeTokenizer;
    std::optional<ft::model::LoadedModel> judgeModel;
    std::unique_ptr<ft::peft::Adapter> judgeAdapter;
    std::unique_ptr<ft::align::AiJudge> judge;
    std::string judgeName;
    if (byJudge) {
        const std::string judgeDir = p.get("judge");
        judgeTokenizer = ft::tok::loadTokenizer(judgeDir);
        judgeModel.emplace(ft::model::loadModelFolder(judgeDir, {rt.dtype, rt.device}));
        judgeAdapter = loadAdapterOption(p, *judgeModel, *judgeTokenizer, rt, "judge-adapter");
        judgeModel->model->eval();
        ft::align::JudgeOptions options;
        options.threshold = judgeThreshold;
        options.promptFormat = p.get("judge-template");
        judge = std::make_unique<ft::align::AiJudge>(judgeModel->model, *judgeTokenizer, options);
        judgeName = std::filesystem::path(judgeDir).filename().string() +
                    (p.has("judge-adapter") ? "+" + std::filesystem::path(p.get("judge-adapter")).filename().string()
                                            : "");
    }

    // The target is created only now that the models have loaded: a wrong folder leaves no empty dataset.
    const int64_t toId = existing ? existing->id
                                  : store->createDataset(toName, toKind,
                                                         "generated by ftstudio-cli data generate --mode " + mode);
    // What earlier runs already made (resume).
    std::set<std::string> done;
    for (const auto& r : allRows(*store, toId))
        for (const auto& t : r.tags)
            if (t.rfind("source:", 0) == 0)
                done.insert(t);

    std::vector<ft::data::Row> sources = allRows(*store, from.id);
    if (limit > 0 && int64_t(sources.size()) > limit)
        sources.resize(size_t(limit));

    int64_t made = 0, skipped = 0, noPair = 0, unsure = 0;
    for (size_t i = 0; i < sources.size(); ++i) {
        const ft::data::Row& src = sources[i];
        const std::string tag = "source:" + std::to_string(src.id);
        if (done.count(tag)) {
            ++skipped;
            continue;
        }
        const std::string prompt = promptOf(src, from.kind);
        if (prompt.empty())
            ft::fail("row " + std::to_string(src.id) + " of '" + from.name + "' has no prompt to answer");
        const std::string rendered = ft::suite::renderUserPrompt(prompt, std::string(), format.get());
        std::vector<int64_t> ids;
        for (int id : tokenizer->encode(rendered, tokenizer->addsBosByDefault(), false))
            ids.push_back(id);
        auto sample = [&](uint64_t seed, double temperature) {
            ft::model::GenerationOptions g;
            g.maxNewTokens = maxNew;
            g.sampling.temperature = temperature;
            g.sampling.topP = p.getDouble("top-p");
            g.sampling.seed = seed;
            return ft::model::generateText(loaded.model, *tokenizer, loaded.generation, ids, g).text;
        };
        ft::data::Row out;
        out.tags = {tag, "generated"};
        out.split = src.split;
        const uint64_t seed = uint64_t(p.getInt("seed"));
        if (mode == "responses") {
            out.fields = {{"instruction", prompt}, {"output", sample(seed, p.getDouble("temperature"))}};
            if (ft::util::isBlank(out.fields["output"].get<std::string>()))
                out.fields["output"] = "(no answer)";  // keep the row: an empty answer is a finding, not a crash
        } else if (byJudge) {
            std::vector<std::string> answers;  // distinct, non-blank, in the order sampled
            for (int64_t k = 0; k < samples; ++k) {
                const std::string text = sample(seed + uint64_t(k), std::max(0.05, p.getDouble("temperature")));
                if (!ft::util::isBlank(text) && std::find(answers.begin(), answers.end(), text) == answers.end())
                    answers.push_back(text);
            }
            out.fields = nullptr;
            if (answers.size() < 2) {
                ++noPair;  // nothing stored: a rerun (with another --seed) tries the prompt again
            } else {
                const ft::align::Ranking r = ft::align::rankResponses(*judge, prompt, answers);
                if (r.bestOverWorst.verdict != 0) {
                    ++unsure;
                } else {
                    out.fields = {{"prompt", prompt}, {"chosen", answers[r.best]}, {"rejected", answers[r.worst]}};
                    out.labelSource = ft::data::LabelSource::AI;
                    out.confidence = r.bestOverWorst.confidence;
                    out.annotator = "ai:" + judgeName;
                    out.labeledAt = ft::data::nowIso8601();
                }
            }
        } else {
            const auto verifier = ft::eval::makeVerifier(src.fields.value("verifier", std::string("exact_match")),
                                                         src.fields.value("verifier_settings", nlohmann::json::object()));
            const std::string reference = src.fields.value("reference", std::string());
            std::string good, bad;
            for (int64_t s = 0; s < samples && (good.empty() || bad.empty()); ++s) {
                const std::string text = sample(seed + uint64_t(s), std::max(0.05, p.getDouble("temperature")));
                if (ft::util::isBlank(text))
                    continue;
                (verifier->score(text, reference).passed ? good : bad) = text;
            }
            if (good.empty() || bad.empty() || good == bad) {
                ++noPair;  // nothing stored: a rerun (with another --seed) tries the prompt again
                out.fields = nullptr;
            } else {
                out.fields = {{"prompt", prompt}, {"chosen", good}, {"rejected", bad}};
                out.labelSource = ft::data::LabelSource::AI;
                out.annotator = "verifier:" + src.fields.value("verifier", std::string("exact_match"));
            }
        }
        if (!out.fields.is_null()) {
            store->insertRow(toId, out);
            ++made;
        }
        if (p.has("progress")) {
            std::fprintf(stderr, "%s\n",
                         nlohmann::json{{"done", int64_t(i + 1)}, {"total", int64_t(sources.size())}, {"made", made}}
                             .dump()
                             .c_str());
            std::fflush(stderr);
        }
    }
    std::string notes;
    if (skipped)
        notes += " (" + std::to_string(skipped) + " already made earlier)";
    if (noPair)
        notes += "; " + std::to_string(noPair) +
                 (byJudge ? " prompts gave fewer than two distinct answers" : " prompts gave no passing-and-failing pair");
    if (unsure)
        notes += "; " + std::to_string(unsure) + " prompts left out: the judge was not sure of its best over its "
                 "worst answer at threshold " + ft::util::formatNumber(judgeThreshold, 2);
    // One line: the GUI shows the last line as the outcome.
    std::printf("%lld rows made in '%s' from %zu prompts of '%s'%s\n", (long long)made, toName.c_str(),
                sources.size(), from.name.c_str(), notes.c_str());
    return 0;
}

} // namespace ftcli
