// ftstudio-cli judge and reward: the alignment tools around training.
//   judge   RLAIF labelling: a judge model decides which response of each preference
//           pair is better (both orders, verdict-token probabilities, a confidence
//           threshold) and writes the labels as preference data with their source.
//   reward  score prompt/response pairs with a trained reward model.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "align/ai_judge.h"
#include "align/reward_model.h"
#include "data/dataset_tools.h"
#include "data/project_store.h"
#include "io/json_file.h"
#include "model/model_io.h"
#include "peft/adapter.h"
#include "peft/adapter_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/dataset_source.h"
#include "train/run_config.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace ftcli {

namespace {

// Native-layout JSONL rows (the importer reads them back with their labels).
void writeRows(const std::string& path, const std::vector<ft::data::Row>& rows)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        if (!out)
            ft::fail("cannot write '" + path + "'");
        for (const auto& row : rows) {
            nlohmann::json j = row.fields;
            j["split"] = ft::data::splitName(row.split);
            if (!row.tags.empty())
                j["tags"] = row.tags;
            j["label_source"] = ft::data::labelSourceName(row.labelSource);
            if (row.confidence)
                j["confidence"] = *row.confidence;
            if (!row.annotator.empty())
                j["annotator"] = row.annotator;
            if (!row.labeledAt.empty())
                j["labeled_at"] = row.labeledAt;
            out << j.dump() << '\n';
        }
        if (!out.flush())
            ft::fail("cannot write '" + path + "'");
    }
    fs::rename(tmp, path);
}

} // namespace

int runJudge(int argc, char** argv)
{
    ArgParser p("judge", "RLAIF: label preference pairs with a judge model (both orders, confidence threshold).");
    p.option("in", "FILE|PROJECT#DATASET", "preference pairs to label (a file, or a dataset of a project, updated in place)");
    p.option("out", "FILE", "where to write the labelled rows (JSONL, native layout); required for a file input");
    addModelOption(p);
    p.option("adapter", "DIR", "an adapter to apply to the judge model");
    p.option("threshold", "P", "label only pairs the judge prefers with at least this probability (0.5-1)", "0.6");
    p.option("template", "NAME", "prompt format of the judge's question: alpaca, chatml or plain", "alpaca");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string in = requireOption(p, "in");
    const bool inProject = ft::train::isDatasetRef(in) && !fs::exists(in);
    if (!inProject && !p.has("out"))
        throw UsageError("--out FILE is required when --in is a file");
    const Runtime runtime = applyRuntimeOptions(p);
    const std::string modelDir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(modelDir);
    auto loaded = ft::model::loadModelFolder(modelDir, {runtime.dtype, runtime.device});
    const auto adapter = loadAdapterOption(p, loaded, *tokenizer, runtime);
    ft::align::JudgeOptions options;
    options.threshold = p.getDouble("threshold");
    options.promptFormat = p.get("template");
    ft::align::AiJudge judge(loaded.model, *tokenizer, options);

    ft::train::SourceRows source = ft::train::loadRows(in);
    if (source.kind != ft::data::DatasetKind::Preference)
        ft::fail("'" + in + "' holds " + ft::data::datasetKindName(source.kind) +
                 " rows; the judge labels preference pairs (prompt, chosen, rejected)");
    // Pairs a person labelled are never overwritten: only the others go to the judge.
    std::vector<ft::data::Row> rows;
    std::vector<size_t> judged;  // index in source.rows of each row in `rows`
    for (size_t i = 0; i < source.rows.size(); ++i)
        if (source.rows[i].labelSource != ft::data::LabelSource::Human) {
            rows.push_back(source.rows[i]);
            judged.push_back(i);
        }
    const int64_t human = int64_t(source.rows.size() - rows.size());
    const std::string judgeName = fs::path(modelDir).filename().string() +
                                  (p.has("adapter") ? "+" + fs::path(p.get("adapter")).filename().string() : "");
    const int64_t labelled = rows.empty() ? 0 : ft::align::labelPairs(judge, rows, judgeName);
    int64_t swapped = 0;
    std::vector<ft::data::Row> all = source.rows;
    for (size_t k = 0; k < rows.size(); ++k) {
        swapped += rows[k].fields["chosen"] != source.rows[judged[k]].fields["chosen"] ? 1 : 0;
        all[judged[k]] = rows[k];
    }
    if (p.has("out")) {
        writeRows(p.get("out"), all);
    } else {
        const ft::data::DatasetRef ref = ft::data::parseDatasetRef(in);
        auto store = openProject(ref.projectPath);
        store->transaction([&] {  // one undo step for the whole judgement
            for (size_t k = 0; k < rows.size(); ++k)
                if (!(rows[k] == source.rows[judged[k]]))
                    store->updateRow(rows[k]);
        });
    }
    std::printf("labelled %lld of %lld pairs (threshold %.2f); %lld had chosen and rejected swapped; %lld left for a "
                "person; %lld labelled by people left as they were\n",
                static_cast<long long>(labelled), static_cast<long long>(rows.size()), options.threshold,
                static_cast<long long>(swapped), static_cast<long long>(int64_t(rows.size()) - labelled),
                static_cast<long long>(human));
    return 0;
}

int runReward(int argc, char** argv)
{
    ArgParser p("reward", "Score prompt/response pairs with a trained reward model.");
    p.option("reward-model", "DIR", "the reward model: the adapter folder written by objective \"reward\"");
    addModelOption(p);
    p.option("prompt", "TEXT", "the prompt");
    p.repeatable("response", "TEXT", "a response to score (repeat for several)");
    p.flag("json", "print one JSON object instead of text");
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dir = requireOption(p, "reward-model");
    const std::string prompt = requireOption(p, "prompt");
    const std::vector<std::string> responses = p.getAll("response");
    if (responses.empty())
        throw UsageError("give at least one --response");
    if (!fs::exists(fs::path(dir) / ft::align::kRewardConfigFile))
        ft::fail("'" + dir + "' is not a reward model: it has no " + ft::align::kRewardConfigFile +
                 " (train one with objective \"reward\")");
    std::string base;
    if (p.has("model")) {
        base = p.get("model");
    } else if (fs::exists(fs::path(dir) / "adapter_config.json")) {
        base = ft::peft::readAdapterConfig(dir).value("base_model_name_or_path", std::string());
    }
    auto scorer = ft::align::RewardScorer::load(base.empty() ? modelDirFrom(p) : base, dir);
    std::vector<std::pair<nlohmann::json, nlohmann::json>> items;
    for (const auto& r : responses)
        items.emplace_back(prompt, r);
    const std::vector<double> scores = scorer->score(items);
    if (p.has("json")) {
        std::cout << nlohmann::json{{"prompt", prompt}, {"responses", responses}, {"scores", scores}}.dump() << '\n';
        return 0;
    }
    for (size_t i = 0; i < scores.size(); ++i)
        std::printf("%+.4f  %s\n", scores[i], responses[i].c_str());
    return 0;
}

} // namespace ftcli
