// ftstudio-cli data: dispatch to the dataset subcommands, and the ones that move
// rows in, out and onto the screen: import, export, list, sample.
// Not here: stats, dedupe, split, bench (cmd_data_tools.cpp); the file formats
// themselves (core/data/importer.h, exporter.h).
#include "cli/arg_parser.h"
#include "cli/commands.h"

#include "data/dataset_tools.h"
#include "data/exporter.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <map>

namespace ftcli {

namespace {

const char* kDataUsage =
    "usage: ftstudio-cli data <command> [options]\n"
    "\n"
    "commands:\n"
    "  import   read a JSONL/JSON/CSV/TSV/text file into a dataset (one transaction)\n"
    "  export   write a dataset (or one split) to a file\n"
    "  list     show datasets, or rows of one: full-text search, tag/split/label filters, paging\n"
    "  sample   show a seeded random sample of rows\n"
    "  stats    counts per split, tag and label; token lengths for a model's tokenizer\n"
    "  dedupe   find exact or near-duplicate rows, and delete them with --apply\n"
    "  split    assign train/eval/test splits with a seed, optionally stratified by tag\n"
    "  bench    import a generated N-row file and time search and deep paging\n"
    "  preview  one row as training sees it: rendered text, tokens with loss and masked, truncation\n"
    "  generate synthetic rows from a local model: answers (distillation) or verified preference pairs\n"
    "\n"
    "Run 'ftstudio-cli data <command> --help' for a command's options.\n";

ft::data::SourceFormat formatOption(const ArgParser& p)
{
    const auto f = ft::data::sourceFormatFromName(p.get("format"));
    if (!f)
        throw UsageError("invalid format '" + p.get("format") + "' (" + ft::data::sourceFormatList() + ")");
    return *f;
}

ft::data::Layout layoutOption(const ArgParser& p)
{
    const auto l = ft::data::layoutFromName(p.get("layout"));
    if (!l)
        throw UsageError("invalid layout '" + p.get("layout") + "' (" + ft::data::layoutList() + ")");
    return *l;
}

nlohmann::json rowJson(const ft::data::Row& r)
{
    nlohmann::json j{{"id", r.id}, {"split", ft::data::splitName(r.split)}, {"tags", r.tags}, {"fields", r.fields}};
    if (!r.notes.empty())
        j["notes"] = r.notes;
    if (r.labelSource != ft::data::LabelSource::None)
        j["label_source"] = ft::data::labelSourceName(r.labelSource);
    j["updated_at"] = r.updatedAt;
    return j;
}

void printRow(const ft::data::Row& r, bool json)
{
    if (json) {
        std::cout << rowJson(r).dump() << '\n';
        return;
    }
    std::string tags;
    for (const auto& t : r.tags)
        tags += (tags.empty() ? "" : ",") + t;
    std::string text = r.fields.dump();
    if (text.size() > 200)
        text = text.substr(0, 197) + "...";
    std::printf("%8lld  %-5s  %-16s %s\n", (long long)r.id, ft::data::splitName(r.split),
                tags.empty() ? "-" : tags.c_str(), text.c_str());
}

int dataImport(int argc, char** argv)
{
    ArgParser p("data import",
                "Import a file into a dataset (created when missing). Every record is validated; by default any "
                "rejected record means nothing is imported.");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset to import into");
    p.option("file", "PATH", "the file to read");
    p.option("format", "F", "file format: " + ft::data::sourceFormatList(), "auto");
    p.option("layout", "L", "record layout: " + ft::data::layoutList(), "auto");
    p.repeatable("map", "FIELD=COLUMN", "read the file's COLUMN as the layout field FIELD");
    p.option("kind", "K", "dataset kind for a new dataset or to narrow detection: " + ft::data::datasetKindList());
    p.option("split", "S", "split for records that name none", "train");
    p.repeatable("tag", "T", "add this tag to every imported row");
    p.option("max-row-bytes", "N", "reject records longer than this", "1048576");
    p.flag("import-valid", "import the valid records and report the rejected ones (default: all or nothing)");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string projectPath = requireOption(p, "project"), dataset = requireOption(p, "dataset"),
                      file = requireOption(p, "file");
    ft::data::ImportOptions options;
    options.format = formatOption(p);
    options.layout = layoutOption(p);
    for (const std::string& m : p.getAll("map")) {
        const auto eq = m.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
            throw UsageError("--map expects FIELD=COLUMN, got '" + m + "'");
        options.mapping.fieldToColumn[m.substr(0, eq)] = m.substr(eq + 1);
    }
    if (p.has("kind")) {
        options.kind = ft::data::datasetKindFromName(p.get("kind"));
        if (!options.kind)
            throw UsageError("invalid kind '" + p.get("kind") + "' (" + ft::data::datasetKindList() + ")");
    }
    if (const auto split = splitOption(p, "split"))
        options.defaultSplit = *split;
    options.tags = p.getAll("tag");
    const int64_t maxBytes = p.getInt("max-row-bytes");
    if (maxBytes <= 0)
        throw UsageError("--max-row-bytes must be positive");
    options.maxRowBytes = static_cast<size_t>(maxBytes);
    options.allOrNothing = !p.has("import-valid");

    const auto store = openProject(projectPath);
    const auto report = ft::data::importFile(*store, dataset, file, options);
    for (const auto& r : report.rejections)
        std::fprintf(stderr, "%s\n", r.message().c_str());
    std::printf("file      %s (%s, layout %s)\n", report.file.c_str(), ft::data::sourceFormatName(report.format),
                ft::data::layoutName(report.layout));
    std::printf("dataset   %s (%s%s)\n", report.dataset.c_str(), ft::data::datasetKindName(report.kind),
                report.createdDataset ? ", new" : "");
    std::printf("accepted  %lld\nrejected  %lld\n", (long long)report.accepted, (long long)report.rejected);
    if (!report.committed) {
        std::fprintf(stderr,
                     "error: nothing imported: %lld of %lld records were rejected (listed above); fix them, or pass "
                     "--import-valid to import the %lld valid ones\n",
                     (long long)report.rejected, (long long)(report.accepted + report.rejected),
                     (long long)report.accepted);
        return 1;
    }
    std::printf("imported %lld rows into '%s'\n", (long long)report.accepted, report.dataset.c_str());
    return 0;
}

int dataExport(int argc, char** argv)
{
    ArgParser p("data export", "Write a dataset (or one split) to a file; the file is replaced atomically.");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset to export");
    p.option("file", "PATH", "the file to write");
    p.option("format", "F", "file format (auto: from the extension): " + ft::data::sourceFormatList(), "auto");
    p.option("layout", "L", "record layout (native keeps every field and label): " + ft::data::layoutList(),
             "native");
    p.option("split", "S", "only rows of this split (train, eval, test)");
    p.option("metadata", "yes|no", "write tags, notes, split and labels (default: yes for native, no otherwise)");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string projectPath = requireOption(p, "project"), dataset = requireOption(p, "dataset"),
                      file = requireOption(p, "file");
    ft::data::ExportOptions options;
    options.format = formatOption(p);
    options.layout = layoutOption(p);
    options.split = splitOption(p, "split");
    if (p.has("metadata")) {
        const std::string m = p.get("metadata");
        if (m != "yes" && m != "no")
            throw UsageError("--metadata expects yes or no, got '" + m + "'");
        options.includeMetadata = m == "yes";
    }
    const auto store = openProject(projectPath);
    const int64_t n = ft::data::exportDataset(*store, dataset, file, options);
    std::printf("exported %lld rows of '%s' to %s\n", (long long)n, dataset.c_str(), file.c_str());
    return 0;
}

int dataList(int argc, char** argv)
{
    ArgParser p("data list", "List the datasets of a project, or the rows of one with search, filters and paging.");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "list this dataset's rows (without it: the datasets)");
    p.option("search", "QUERY", "full-text search (SQLite FTS5 syntax: words, \"phrases\", prefix*, AND/OR/NOT)");
    p.option("tag", "T", "only rows with this tag");
    p.option("split", "S", "only rows of this split (train, eval, test)");
    p.option("label", "STATE", "any, labelled or unlabelled (preference rows)", "any");
    p.option("sort", "KEY", "id or updated", "id");
    p.flag("desc", "sort descending");
    p.option("limit", "N", "rows per page", "20");
    p.option("offset", "N", "skip this many rows", "0");
    p.option("after", "ID", "keyset paging: rows after this id (fast at any depth; with --sort id)");
    p.flag("json", "print one JSON object per row");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string projectPath = requireOption(p, "project");
    // Every option is checked before the project is opened, so a typo is a usage error.
    ft::data::RowQuery q;
    q.search = p.get("search");
    if (p.has("tag"))
        q.tag = p.get("tag");
    q.split = splitOption(p, "split");
    const std::string label = p.get("label");
    if (label == "labelled" || label == "labeled")
        q.label = ft::data::LabelState::Labelled;
    else if (label == "unlabelled" || label == "unlabeled")
        q.label = ft::data::LabelState::Unlabelled;
    else if (label != "any")
        throw UsageError("invalid --label '" + label + "' (any, labelled, unlabelled)");
    const std::string sort = p.get("sort");
    if (sort != "id" && sort != "updated")
        throw UsageError("invalid --sort '" + sort + "' (id, updated)");
    q.sort = sort == "id" ? ft::data::SortKey::Id : ft::data::SortKey::UpdatedAt;
    q.descending = p.has("desc");
    q.limit = p.getInt("limit");
    q.offset = p.getInt("offset");
    if (q.limit <= 0 || q.offset < 0)
        throw UsageError("--limit must be positive and --offset not negative");
    if (p.has("after")) {
        if (q.sort != ft::data::SortKey::Id)
            throw UsageError("--after pages by id; it cannot be combined with --sort updated");
        q.afterId = p.getInt("after");
    }
    const auto store = openProject(projectPath);
    if (!p.has("dataset")) {
        for (const auto& d : store->datasets())
            std::printf("%-24s %-12s %10lld rows\n", d.name.c_str(), ft::data::datasetKindName(d.kind),
                        (long long)d.rowCount);
        return 0;
    }
    q.datasetId = store->requireDataset(p.get("dataset")).id;
    const auto rows = store->query(q);
    const bool json = p.has("json");
    for (const auto& r : rows)
        printRow(r, json);
    const int64_t total = store->count(q);
    std::fprintf(json ? stderr : stdout, "%zu shown, %lld matching\n", rows.size(), (long long)total);
    return 0;
}

int dataSample(int argc, char** argv)
{
    ArgParser p("data sample", "Show a random sample of a dataset's rows; the same seed gives the same sample.");
    p.option("project", "PATH", "the project file");
    p.option("dataset", "NAME", "the dataset");
    p.option("n", "N", "rows to draw", "5");
    p.option("seed", "S", "random seed", "0");
    p.flag("json", "print one JSON object per row");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string dataset = requireOption(p, "dataset");
    const int64_t n = p.getInt("n"), seed = p.getInt("seed");
    if (n <= 0)
        throw UsageError("--n must be positive");
    const auto store = openProject(requireOption(p, "project"));
    for (const auto& r : ft::data::sampleRows(*store, store->requireDataset(dataset).id, n, uint64_t(seed)))
        printRow(r, p.has("json"));
    return 0;
}

} // namespace

int runData(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs(kDataUsage, stderr);
        return 2;
    }
    const std::string sub = argv[2];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::fputs(kDataUsage, stdout);
        return 0;
    }
    const std::map<std::string, int (*)(int, char**)> commands{
        {"import", dataImport},      {"export", dataExport},       {"list", dataList},
        {"sample", dataSample},      {"stats", runDataStats},      {"dedupe", runDataDedupe},
        {"split", runDataSplit},     {"bench", runDataBench},      {"preview", runDataPreview},
        {"generate", runDataGenerate}};
    if (const auto it = commands.find(sub); it != commands.end()) {
        try {
            return it->second(argc, argv);
        } catch (const UsageError& e) {
            // Name the subcommand, so the hint points at the help that lists its options.
            std::fprintf(stderr, "ftstudio-cli data %s: %s\nRun 'ftstudio-cli data %s --help' for usage.\n",
                         sub.c_str(), e.what(), sub.c_str());
            return 2;
        }
    }
    throw UsageError("unknown data command '" + sub + "' (import, export, list, sample, stats, dedupe, split, bench, preview, generate)");
}

} // namespace ftcli
