// ftstudio-cli project create|info|undo|redo: make a new project file, describe one
// (schema version, datasets with kinds and row counts, runs), or step through its
// row-edit history (the studio's Edit > Undo / Redo). Also the helpers
// the data commands share for opening a project and reading common options.
// Not here: anything that edits datasets (cmd_data*.cpp).
#include "cli/arg_parser.h"
#include "cli/commands.h"

#include "data/project_store.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace ftcli {

namespace {

const char* kProjectUsage =
    "usage: ftstudio-cli project <command> [options]\n"
    "\n"
    "commands:\n"
    "  create   create a new, empty project file\n"
    "  info     describe a project: schema version, datasets (kind, rows), runs\n"
    "  undo     take back the last row edit, insert or delete (the studio's Edit > Undo)\n"
    "  redo     apply again what the last undo took back\n"
    "\n"
    "Run 'ftstudio-cli project <command> --help' for a command's options.\n";

int projectCreate(int argc, char** argv)
{
    ArgParser p("project create", "Create a new project file (one SQLite database). Fails if the file exists.");
    p.option("file", "PATH", "the project file to create, e.g. my-project.db");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const std::string path = requireOption(p, "file");
    const auto store = ft::data::ProjectStore::create(path);
    std::printf("created project %s (schema version %d)\n", path.c_str(), store->schemaVersion());
    return 0;
}

int projectInfo(int argc, char** argv)
{
    ArgParser p("project info", "Describe a project: schema version, datasets with kinds and row counts, runs.");
    p.option("file", "PATH", "the project file");
    p.flag("json", "print one JSON object instead of text");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const auto store = openProject(requireOption(p, "file"));
    const auto datasets = store->datasets();
    const auto runs = store->runs();
    int64_t totalRows = 0;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& d : datasets) {
        totalRows += d.rowCount;
        list.push_back({{"id", d.id},
                        {"name", d.name},
                        {"kind", ft::data::datasetKindName(d.kind)},
                        {"rows", d.rowCount},
                        {"description", d.description},
                        {"created_at", d.createdAt}});
    }
    if (p.has("json")) {
        const nlohmann::json j{{"project", store->path()},
                               {"schema_version", store->schemaVersion()},
                               {"datasets", list},
                               {"rows", totalRows},
                               {"runs", runs.size()}};
        std::cout << j.dump(2) << '\n';
        return 0;
    }
    std::printf("project         %s\n", store->path().c_str());
    std::printf("schema version  %d\n", store->schemaVersion());
    std::printf("datasets        %zu (%lld rows)\n", datasets.size(), (long long)totalRows);
    for (const auto& d : datasets)
        std::printf("  %-24s %-12s %10lld rows%s%s\n", d.name.c_str(), ft::data::datasetKindName(d.kind),
                    (long long)d.rowCount, d.description.empty() ? "" : "  ", d.description.c_str());
    std::printf("runs            %zu\n", runs.size());
    for (const auto& r : runs)
        std::printf("  %-24s %-10s %s\n", r.name.c_str(), r.status.c_str(), r.createdAt.c_str());
    return 0;
}

// undo / redo: one step of the project's persistent history, the one the studio's
// Edit menu walks; with --list, only show what the next undo and redo would do.
int projectHistory(int argc, char** argv, bool undo)
{
    const std::string name = undo ? "undo" : "redo";
    ArgParser p("project " + name, undo ? "Take back the project's last row edit, insert or delete (one step of the "
                                          "history the studio's Edit > Undo walks). One transaction: a kill leaves "
                                          "the step whole or untouched."
                                        : "Apply again the step the last undo took back (the studio's Edit > Redo).");
    p.option("file", "PATH", "the project file");
    p.option("steps", "N", "how many steps to take (default 1)");
    p.flag("list", "only print what the next undo and redo would do; change nothing");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const auto store = openProject(requireOption(p, "file"));
    if (p.has("list")) {
        std::printf("undo  %s\nredo  %s\n", store->canUndo() ? store->undoLabel().c_str() : "(nothing)",
                    store->canRedo() ? store->redoLabel().c_str() : "(nothing)");
        return 0;
    }
    const int64_t steps = p.has("steps") ? p.getInt("steps") : 1;
    if (steps < 1)
        throw UsageError("--steps must be at least 1, got " + std::to_string(steps));
    for (int64_t i = 0; i < steps; ++i) {
        if (undo ? !store->canUndo() : !store->canRedo())
            ft::fail("project '" + store->path() + "': nothing to " + name +
                     (i > 0 ? " after " + std::to_string(i) + " step(s)" : ""));
        const std::string label = undo ? store->undoLabel() : store->redoLabel();
        undo ? store->undo() : store->redo();
        std::printf("%s: %s\n", undo ? "undid" : "redid", label.c_str());
    }
    return 0;
}

} // namespace

std::unique_ptr<ft::data::ProjectStore> openProject(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        ft::fail("project file '" + path + "' does not exist; create it with 'ftstudio-cli project create --file " +
                 path + "'");
    return ft::data::ProjectStore::open(path);
}

std::string requireOption(const ArgParser& p, const std::string& name)
{
    if (!p.has(name) || p.get(name).empty())
        throw UsageError("--" + name + " is required");
    return p.get(name);
}

std::optional<ft::data::Split> splitOption(const ArgParser& p, const std::string& name)
{
    if (!p.has(name))
        return std::nullopt;
    const auto split = ft::data::splitFromName(p.get(name));
    if (!split)
        throw UsageError("invalid split '" + p.get(name) + "' for --" + name + " (train, eval, test)");
    return split;
}

int runProject(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs(kProjectUsage, stderr);
        return 2;
    }
    const std::string sub = argv[2];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::fputs(kProjectUsage, stdout);
        return 0;
    }
    if (sub == "create" || sub == "info" || sub == "undo" || sub == "redo") {
        try {
            if (sub == "undo" || sub == "redo")
                return projectHistory(argc, argv, sub == "undo");
            return sub == "create" ? projectCreate(argc, argv) : projectInfo(argc, argv);
        } catch (const UsageError& e) {
            // Name the subcommand, so the hint points at the help that lists its options.
            std::fprintf(stderr, "ftstudio-cli project %s: %s\nRun 'ftstudio-cli project %s --help' for usage.\n",
                         sub.c_str(), e.what(), sub.c_str());
            return 2;
        }
    }
    throw UsageError("unknown project command '" + sub + "' (create, info, undo, redo)");
}

} // namespace ftcli
