// ftstudio-cli data preview: one row as the trainer sees it under a run config (the
// objective, its prompt format, max_seq_len, loss_on): the rendered text, its tokens,
// which carry loss and which are masked, and where truncation cuts; with packing, the
// packed row it shares with its neighbours in the first epoch (engine/row_preview.h).
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "engine/objective_registry.h"
#include "engine/row_preview.h"
#include "io/json_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/dataset_source.h"
#include "train/run_config.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

namespace ftcli {

namespace {

// A token's text with its white space and control characters made visible.
std::string visible(const std::string& s)
{
    std::string out;
    for (char c : s) {
        if (c == '\n')
            out += "\\n";
        else if (c == '\t')
            out += "\\t";
        else
            out += c;
    }
    return out;
}

} // namespace

int runDataPreview(int argc, char** argv)
{
    ArgParser p("data preview",
                "Show one row as training sees it: the text the run's prompt format renders, its tokens, which "
                "carry loss ([brackets]) and which are masked, and where max_seq_len cuts it. Preference rows show "
                "both sides. Settings come from --config (a run config) and the options below.");
    p.option("project", "PATH", "the project file (with --dataset)");
    p.option("dataset", "NAME", "the dataset (with --project)");
    p.option("data", "SOURCE", "instead of --project/--dataset: a data file, or project.db#dataset");
    p.option("row", "ID", "the row's id (a data file: the line its record starts on)");
    addModelOption(p);
    p.option("config", "FILE", "a run config: its objective, template, max_seq_len, loss_on and packing");
    p.option("objective", "NAME", "the objective (default: the config's, else sft)");
    p.option("template", "NAME", "the prompt format: alpaca, chatml, plain or model (the model's chat template)");
    p.option("max-seq-len", "N", "training.max_seq_len");
    p.option("loss-on", "WHAT", "sft: assistant (responses only) or all");
    p.flag("packing", "sft: pack examples as objective.packing does, and show the row's packed neighbours");
    p.flag("json", "print one JSON object: tokens with their pieces, text and whether they carry loss");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    std::string source;
    if (p.has("data")) {
        if (p.has("project") || p.has("dataset"))
            throw UsageError("give --data, or --project with --dataset, not both");
        source = p.get("data");
    } else {
        source = requireOption(p, "project") + "#" + requireOption(p, "dataset");
    }
    requireOption(p, "row");
    const int64_t rowId = p.getInt("row");
    nlohmann::json j = p.has("config") ? ft::io::readJsonFile(p.get("config")) : nlohmann::json::object();
    if (!j.is_object())
        ft::fail("--config '" + p.get("config") + "' is not a JSON object");
    const std::string modelDir = modelDirFrom(p);
    j["model"] = modelDir;
    if (!j.contains("output_dir"))
        j["output_dir"] = (std::filesystem::temp_directory_path() / "ftstudio-preview").string();
    if (!j.contains("data") || !j["data"].is_object())
        j["data"] = nlohmann::json::object();
    j["data"]["train"] = source;  // the config's eval split settings stay: they decide what is packed
    if (!j.contains("objective"))
        j["objective"] = {{"name", "sft"}};
    if (p.has("objective") && j["objective"].value("name", std::string("sft")) != p.get("objective"))
        j["objective"] = {{"name", p.get("objective")}};  // another objective's settings do not carry over
    if (p.has("template"))
        j["objective"]["template"] = p.get("template");
    if (p.has("loss-on"))
        j["objective"]["loss_on"] = p.get("loss-on");
    if (p.has("packing")) {
        if (j["objective"].value("name", std::string("sft")) != "sft")
            throw UsageError("--packing packs SFT examples; objective '" +
                             j["objective"]["name"].get<std::string>() + "' does not pack");
        j["objective"]["packing"] = true;
    }
    if (p.has("max-seq-len"))
        j["training"]["max_seq_len"] = p.getInt("max-seq-len");
    const ft::train::RunConfig config = ft::train::parseRunConfig(j, p.has("config") ? p.get("config") : "data preview");

    const ft::train::SourceRows rows = ft::train::loadRows(source);
    const ft::data::Row* row = nullptr;
    for (const auto& r : rows.rows)
        if (r.id == rowId)
            row = &r;
    if (!row)
        ft::fail("no row " + std::to_string(rowId) + " in '" + source + "' (" + std::to_string(rows.rows.size()) +
                 " rows" + (rows.rows.empty() ? std::string() : ", ids " + std::to_string(rows.rows.front().id) + ".." +
                                                                  std::to_string(rows.rows.back().id)) +
                 ")");
    auto tokenizer = ft::tok::loadTokenizer(modelDir);
    std::optional<ft::engine::ObjectiveRows> split;  // packing: the neighbours come from the training split
    if (config.objective.sft.packing && config.objective.name == "sft")
        split = ft::engine::loadObjectiveRows(config);
    const ft::engine::RowPreview preview =
        ft::engine::previewRow(config, *row, rows.kind, *tokenizer, split ? &split->split.train : nullptr);
    const nlohmann::json out = ft::engine::previewJson(preview, *tokenizer);
    if (p.has("json")) {
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    std::printf("row %lld (%s) for objective %s, prompt format %s, max_seq_len %lld%s\n", (long long)rowId,
                preview.kind.c_str(), preview.objective.c_str(), preview.format.c_str(), (long long)preview.maxSeqLen,
                preview.lossOn.empty() ? "" : (", loss on " + preview.lossOn).c_str());
    for (const auto& side : out["sides"]) {
        const std::string name = side["name"];
        std::printf("\n%s%s tokens kept of %lld; %lld carry loss, %lld masked%s%s\n",
                    name.empty() ? "" : (name + ": ").c_str(), std::to_string(side["kept"].get<int64_t>()).c_str(),
                    (long long)side["full_length"].get<int64_t>(), (long long)side["loss_tokens"].get<int64_t>(),
                    (long long)side["masked_tokens"].get<int64_t>(),
                    side["truncated"].get<bool>() ? "; cut at max_seq_len" : "",
                    side["dropped"].get<bool>() ? "; DROPPED: no loss token left, the row is not trained on" : "");
        std::string line;
        bool inLoss = false;
        for (const auto& t : side["tokens"]) {
            const bool loss = t["loss"].get<bool>();
            if (loss != inLoss)
                line += loss ? "[" : "]";
            inLoss = loss;
            line += visible(t["text"].get<std::string>());
        }
        if (inLoss)
            line += "]";
        if (side["truncated"].get<bool>())
            line += " ✂";
        std::printf("%s\n", line.c_str());
    }
    if (out.contains("packed")) {
        const auto& pk = out["packed"];
        if (pk["in_eval"].get<bool>()) {
            std::printf("\npacking: the row is in the evaluation split, which is scored row by row, not packed\n");
        } else if (pk["dropped"].get<bool>()) {
            std::printf("\npacking: the row is dropped, so it is in no packed row\n");
        } else {
            const int64_t used = pk["used"], length = pk["length"];
            std::printf("\npacked row %lld of %lld in epoch 1: %lld of %lld tokens used, %lld padding; each example "
                        "attends only to itself\n",
                        (long long)pk["packed_row"].get<int64_t>() + 1, (long long)pk["packed_rows"].get<int64_t>(),
                        (long long)used, (long long)length, (long long)(length - used));
            for (const auto& e : pk["examples"]) {
                std::string text = visible(e["text"].get<std::string>());
                if (text.size() > 60) {
                    size_t cut = 57;
                    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
                        --cut;  // not inside a UTF-8 character
                    text = text.substr(0, cut) + "...";
                }
                const int64_t start = e["start"], n = e["tokens"];
                std::printf("  %s [%lld, %lld) row %lld: %lld tokens, %lld carry loss  %s\n",
                            e["self"].get<bool>() ? ">" : " ", (long long)start, (long long)(start + n),
                            (long long)e["row"].get<int64_t>(), (long long)n,
                            (long long)e["loss_tokens"].get<int64_t>(), text.c_str());
            }
        }
    }
    return 0;
}

} // namespace ftcli
