// ftstudio-cli data stats|dedupe|split|bench: the curation utilities of
// core/data/dataset_tools.h on the command line, and the store's benchmark
// (import rate, size, search and deep-paging times on a generated file).
// Not here: import/export/list/sample (cmd_data.cpp).
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "data/dataset_tools.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"
#include "util/random.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fs = std::filesystem;

namespace ftcli {

namespace {

double secondsSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int runDataStats(int argc, char** argv)
{
    ArgParser p("data stats", "Counts per split, tag and label state; token-length statistics with --model.");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset");
    p.option("model", "DIR", "a model folder whose tokenizer measures the rows");
    p.option("max-length", "N", "report rows longer than this many tokens (with --model)",
             "the model's max_position_embeddings");
    p.flag("json", "print one JSON object instead of text");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dataset = requireOption(p, "dataset");
    const int64_t maxLengthOption = p.has("max-length") ? p.getInt("max-length") : 0;
    if (p.has("max-length") && maxLengthOption <= 0)
        throw UsageError("--max-length must be positive");
    const auto store = openProject(requireOption(p, "project"));
    const auto info = store->requireDataset(dataset);
    using namespace ft::data;

    RowQuery q;
    q.datasetId = info.id;
    nlohmann::json j{{"dataset", info.name}, {"kind", datasetKindName(info.kind)}, {"rows", store->count(q)}};
    for (Split s : {Split::Train, Split::Eval, Split::Test}) {
        RowQuery bySplit = q;
        bySplit.split = s;
        j["splits"][splitName(s)] = store->count(bySplit);
    }
    j["tags"] = nlohmann::json::object();
    for (const std::string& tag : store->tags(info.id)) {
        RowQuery byTag = q;
        byTag.tag = tag;
        j["tags"][tag] = store->count(byTag);
    }
    if (info.kind == DatasetKind::Preference) {
        RowQuery byLabel = q;
        byLabel.label = LabelState::Labelled;
        j["labels"]["labelled"] = store->count(byLabel);
        byLabel.label = LabelState::Unlabelled;
        j["labels"]["unlabelled"] = store->count(byLabel);
    }
    if (p.has("model")) {
        const auto tokenizer = ft::tok::loadTokenizer(p.get("model"));
        // Rows longer than the model's context are what truncation will cut.
        const int64_t maxLength = maxLengthOption > 0
            ? maxLengthOption
            : ft::model::readModelConfig(ft::model::requireModelFolder(p.get("model"))).maxPositionEmbeddings;
        const TokenLengthStats t = tokenLengths(*store, info.id, *tokenizer, maxLength);
        j["tokens"] = {{"model", p.get("model")}, {"count", t.count},   {"min", t.min},
                       {"median", t.median},      {"p95", t.p95},       {"max", t.max},
                       {"mean", t.mean},          {"max_length", maxLength}, {"over_max", t.overMaxIds.size()},
                       {"over_max_ids", t.overMaxIds},
                       {"histogram", {{"bin_width", t.binWidth}, {"counts", t.histogram}}}};
    }
    if (p.has("json")) {
        std::cout << j.dump(2) << '\n';
        return 0;
    }
    std::printf("dataset   %s (%s), %lld rows\n", info.name.c_str(), datasetKindName(info.kind),
                (long long)j["rows"].get<int64_t>());
    std::printf("splits    train %lld, eval %lld, test %lld\n", (long long)j["splits"]["train"].get<int64_t>(),
                (long long)j["splits"]["eval"].get<int64_t>(), (long long)j["splits"]["test"].get<int64_t>());
    std::string tags;
    for (const auto& [tag, n] : j["tags"].items())
        tags += (tags.empty() ? "" : ", ") + tag + " " + std::to_string(n.get<int64_t>());
    std::printf("tags      %s\n", tags.empty() ? "(none)" : tags.c_str());
    if (j.contains("labels"))
        std::printf("labels    labelled %lld, unlabelled %lld\n", (long long)j["labels"]["labelled"].get<int64_t>(),
                    (long long)j["labels"]["unlabelled"].get<int64_t>());
    if (j.contains("tokens")) {
        const auto& t = j["tokens"];
        std::printf("tokens    min %lld, median %lld, p95 %lld, max %lld, mean %.1f (%s)\n",
                    (long long)t["min"].get<int64_t>(), (long long)t["median"].get<int64_t>(),
                    (long long)t["p95"].get<int64_t>(), (long long)t["max"].get<int64_t>(), t["mean"].get<double>(),
                    p.get("model").c_str());
        std::string ids;
        const auto& over = t["over_max_ids"];
        for (size_t i = 0; i < over.size() && i < 20; ++i)
            ids += (i ? ", " : "") + std::to_string(over[i].get<int64_t>());
        std::printf("over max  %zu rows longer than %lld tokens%s%s%s\n", over.size(), (long long)t["max_length"].get<int64_t>(),
                    ids.empty() ? "" : " (ids ", ids.c_str(), ids.empty() ? "" : over.size() > 20 ? ", ...)" : ")");
    }
    return 0;
}

int runDataDedupe(int argc, char** argv)
{
    ArgParser p("data dedupe", "Find duplicate rows (exact, or near: same normalized text) and delete all but the "
                               "lowest id of each group with --apply (one undo step).");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset");
    p.flag("near", "compare normalized text (case, punctuation and whitespace ignored) instead of exact fields");
    p.option("similarity", "J", "with --near, also group rows whose word-shingle Jaccard similarity is at least J "
                                "(0 < J <= 1, MinHash estimate; 0 = off)", "0");
    p.option("show", "N", "groups to print", "20");
    p.flag("apply", "delete the duplicates, keeping the lowest id of each group");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dataset = requireOption(p, "dataset");
    const double similarity = p.getDouble("similarity");
    if (similarity < 0.0 || similarity > 1.0)
        throw UsageError("--similarity must lie in [0, 1]");
    if (similarity > 0.0 && !p.has("near"))
        throw UsageError("--similarity needs --near");
    const int64_t show = p.getInt("show");
    const auto store = openProject(requireOption(p, "project"));
    const auto info = store->requireDataset(dataset);
    const auto groups = ft::data::findDuplicates(*store, info.id, p.has("near"), similarity);
    int64_t extra = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
        extra += int64_t(groups[g].size()) - 1;
        if (int64_t(g) >= show)
            continue;
        std::string ids;
        for (size_t i = 0; i < groups[g].size(); ++i)
            ids += (i ? ", " : "") + std::to_string(groups[g][i]);
        std::printf("group %zu: rows %s (keeps %lld)\n", g + 1, ids.c_str(), (long long)groups[g].front());
    }
    if (int64_t(groups.size()) > show)
        std::printf("... %zu more groups\n", groups.size() - size_t(show));
    std::printf("%lld duplicate rows in %zu groups (%s)\n", (long long)extra, groups.size(),
                p.has("near") ? "near" : "exact");
    if (!p.has("apply")) {
        if (extra > 0)
            std::printf("run again with --apply to delete them\n");
        return 0;
    }
    const int64_t removed = ft::data::removeDuplicates(*store, groups);
    std::printf("deleted %lld rows (one undo step)\n", (long long)removed);
    return 0;
}

int runDataSplit(int argc, char** argv)
{
    ArgParser p("data split", "Assign every row to train/eval/test with a seed (the same seed gives the same split).");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset");
    p.option("eval", "FRACTION", "share of rows for eval", "0.1");
    p.option("test", "FRACTION", "share of rows for test", "0");
    p.option("seed", "S", "random seed", "0");
    p.flag("stratify", "split each tag group in the same proportions");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dataset = requireOption(p, "dataset");
    const double evalFraction = p.getDouble("eval"), testFraction = p.getDouble("test");
    if (evalFraction < 0 || testFraction < 0 || evalFraction + testFraction > 1.0)
        throw UsageError("--eval and --test must be at least 0 and sum to at most 1");
    const int64_t seed = p.getInt("seed");
    const auto store = openProject(requireOption(p, "project"));
    const auto info = store->requireDataset(dataset);
    const auto c = ft::data::assignSplits(*store, info.id, evalFraction, testFraction, uint64_t(seed),
                                          p.has("stratify"));
    std::printf("train %lld, eval %lld, test %lld (%lld rows changed, seed %lld%s)\n", (long long)c.train,
                (long long)c.eval, (long long)c.test, (long long)c.changed, (long long)seed,
                p.has("stratify") ? ", stratified by tag" : "");
    return 0;
}

// ---- bench ------------------------------------------------------------------

namespace {

// A deterministic word soup: enough distinct words that FTS has real posting
// lists, plus a rare word ("needle", one row in a thousand) to search for.
void writeBenchFile(const std::string& path, int64_t rows)
{
    static const char* kSyllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu",
                                       "ba", "de", "fi", "go", "hu", "je", "pa", "qui", "ro", "wu"};
    ft::util::SplitMix64 rng(12345);
    auto next = [&rng] { return rng.next(); };
    auto words = [&](int n) {
        std::string s;
        for (int i = 0; i < n; ++i) {
            s += i ? " " : "";
            for (int k = 0, len = 2 + int(next() % 2); k < len; ++k)
                s += kSyllables[next() % 20];
        }
        return s;
    };
    std::ofstream out(path, std::ios::binary);
    if (!out)
        ft::fail("cannot write benchmark file '" + path + "'");
    for (int64_t i = 0; i < rows; ++i) {
        const nlohmann::json j{{"instruction", words(8 + int(next() % 6)) + (i % 1000 == 7 ? " needle" : "")},
                               {"input", i % 3 ? "" : words(6)},
                               {"output", words(20 + int(next() % 20))}};
        out << j.dump() << '\n';
    }
    if (!out.flush())
        ft::fail("cannot write benchmark file '" + path + "' (disk full?)");
}

int64_t fileSize(const fs::path& p)
{
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : int64_t(n);
}

} // namespace

int runDataBench(int argc, char** argv)
{
    ArgParser p("data bench", "Benchmark the project store: import a generated N-row JSONL file, then report rows/s, "
                              "database size, a full-text search and paging deep into the dataset.");
    p.option("rows", "N", "rows to generate", "1000000");
    p.option("project", "PATH", "a new project file to create (default: a temporary one, removed afterwards)");
    p.flag("keep", "keep the temporary folder (generated file and project)");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const int64_t rows = p.getInt("rows");
    if (rows < 1)
        throw UsageError("--rows must be positive");
    std::string tmpl = (fs::temp_directory_path() / "ftstudio-data-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data()))
        ft::fail("cannot create a temporary folder under " + fs::temp_directory_path().string());
    const fs::path dir = tmpl;
    const std::string file = (dir / "bench.jsonl").string();
    const std::string projectPath = p.has("project") ? p.get("project") : (dir / "bench.db").string();
    struct Cleanup {
        fs::path dir;
        bool keep;
        ~Cleanup()
        {
            std::error_code ec;
            if (!keep)
                fs::remove_all(dir, ec);
        }
    } cleanup{dir, p.has("keep")};

    auto t0 = std::chrono::steady_clock::now();
    writeBenchFile(file, rows);
    std::printf("generated  %lld rows, %s in %.1f s (%s)\n", (long long)rows, formatBytes(double(fileSize(file))).c_str(),
                secondsSince(t0), file.c_str());
    std::fflush(stdout);

    auto store = ft::data::ProjectStore::create(projectPath);
    t0 = std::chrono::steady_clock::now();
    const auto report = ft::data::importFile(*store, "bench", file, ft::data::ImportOptions{});
    const double importSeconds = secondsSince(t0);
    if (!report.committed)
        ft::fail("benchmark import was rejected: " +
                 (report.rejections.empty() ? std::string("?") : report.rejections.front().message()));
    std::printf("import     %lld rows in %.1f s: %.0f rows/s\n", (long long)report.accepted, importSeconds,
                double(report.accepted) / importSeconds);
    std::printf("database   %s (+ %s write-ahead log) at %s\n", formatBytes(double(fileSize(projectPath))).c_str(),
                formatBytes(double(fileSize(projectPath + "-wal"))).c_str(), projectPath.c_str());

    ft::data::RowQuery q;
    q.datasetId = report.datasetId;
    q.limit = 100;
    auto timed = [](auto&& body) {
        const auto start = std::chrono::steady_clock::now();
        body();
        return secondsSince(start) * 1000.0;
    };
    ft::data::RowQuery search = q;
    search.search = "needle";
    size_t found = 0;
    int64_t matching = 0;
    const double searchMs = timed([&] { found = store->query(search).size(); });
    const double countMs = timed([&] { matching = store->count(search); });
    std::printf("search     'needle': first page (%zu rows) in %.2f ms; counting all %lld matches %.2f ms\n", found,
                searchMs, (long long)matching, countMs);

    const int64_t position = rows >= 1000000 ? 900000 : rows * 9 / 10;
    ft::data::RowQuery byOffset = q;
    byOffset.offset = position;
    std::vector<ft::data::Row> offsetPage;
    const double offsetMs = timed([&] { offsetPage = store->query(byOffset); });
    // Keyset paging starts after the id of the row just before `position` — what
    // a viewer holds from the page it showed last.
    ft::data::RowQuery before = q;
    before.offset = position - 1;
    before.limit = 1;
    const auto previous = position > 0 ? store->query(before) : std::vector<ft::data::Row>{};
    ft::data::RowQuery byKey = q;
    byKey.afterId = previous.empty() ? 0 : previous.front().id;
    std::vector<ft::data::Row> keyPage;
    const double keysetMs = timed([&] { keyPage = store->query(byKey); });
    const bool same = !offsetPage.empty() && !keyPage.empty() && offsetPage.front().id == keyPage.front().id;
    std::printf("paging     100 rows at row %lld: keyset %.2f ms, offset %.2f ms%s\n", (long long)position, keysetMs,
                offsetMs, same ? "" : " (pages differ!)");
    if (p.has("keep"))
        std::printf("kept       %s\n", dir.c_str());
    return 0;
}

} // namespace ftcli
