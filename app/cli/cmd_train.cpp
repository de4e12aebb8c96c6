// ftstudio-cli train: runs one training run described by a run config (JSON), the
// same engine the GUI starts as a child process. Events go out as JSON lines
// (--events FILE or - for stdout); a person at a terminal gets one readable line
// per step on stderr. Control: stdin commands pause / resume / stop / save, and
// signals (SIGTERM/SIGINT stop and save a checkpoint, SIGUSR1 pause, SIGUSR2 resume).
// Several processes: --nproc-per-node N (or distributed.processes) starts N ranks here
// (rank_launcher.h); under torchrun or srun this process is one rank of theirs.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "cli/rank_launcher.h"

#include "dist/communicator.h"
#include "dist/launch_env.h"
#include "engine/trainer.h"
#include "io/json_file.h"
#include "train/run_config.h"
#include "train/run_estimate.h"
#include "engine/data_checks.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <iostream>

namespace ftcli {

namespace {

// One line per event for a person watching the terminal.
void printEvent(const nlohmann::json& e)
{
    const std::string type = e.value("event", "");
    auto num = [&](const char* key) { return e.contains(key) && e[key].is_number() ? e[key].get<double>() : 0.0; };
    if (type == "started") {
        std::fprintf(stderr, "started: %s trainable of %s parameters on %s (%s), %lld steps; estimated memory %s\n",
                     formatCount(e["parameters"].value("trainable", 0.0)).c_str(),
                     formatCount(e["parameters"].value("total", 0.0)).c_str(), e.value("device", "").c_str(),
                     e.value("dtype", "").c_str(), (long long)e.value("total_steps", 0),
                     formatBytes(e["memory_estimate"].value("total", 0.0)).c_str());
    } else if (type == "step") {
        std::fprintf(stderr, "step %5lld  epoch %.2f  loss %.4f  lr %.3g  grad %.3g  %.0f tok/s  rss %s  eta %.0fs\n",
                     (long long)num("step"), num("epoch"), num("loss"), num("lr"), num("grad_norm"),
                     num("tokens_per_second"), formatBytes(e["memory"].value("rss_bytes", 0.0)).c_str(), num("eta_s"));
    } else if (type == "eval") {
        if (e.contains("loss") && e.contains("perplexity"))
            std::fprintf(stderr, "eval at step %lld: loss %.4f  perplexity %.3f\n", (long long)num("step"), num("loss"),
                         num("perplexity"));
        else if (e.contains("loss"))
            std::fprintf(stderr, "eval at step %lld: loss %.4f\n", (long long)num("step"), num("loss"));
    } else if (type == "suite") {
        std::string figures;
        for (const auto& m : e.value("metrics", nlohmann::json::array())) {
            char buf[128];
            std::snprintf(buf, sizeof buf, "%s%s %.3f [%.3f, %.3f]", figures.empty() ? "" : ", ",
                          m.value("name", "").c_str(), m.value("value", 0.0), m.value("low", 0.0), m.value("high", 0.0));
            figures += buf;
        }
        std::fprintf(stderr, "suite %s at step %lld: %s (%lld items)\n", e.value("suite", "").c_str(),
                     (long long)num("step"), figures.c_str(), (long long)num("items"));
    } else if (type == "sample") {
        std::fprintf(stderr, "sample at step %lld: %s -> %s\n", (long long)num("step"), e.value("prompt", "").c_str(),
                     e.value("text", "").c_str());
    } else if (type == "checkpoint") {
        std::fprintf(stderr, "checkpoint: %s\n", e.value("path", "").c_str());
    } else if (type == "paused" || type == "resumed") {
        std::fprintf(stderr, "%s at step %lld\n", type.c_str(), (long long)num("step"));
    } else if (type == "finished") {
        std::fprintf(stderr, "%s at step %lld: %s (peak RSS %s)\n", e.value("status", "finished").c_str(),
                     (long long)num("step"), e.value("output", "").c_str(),
                     formatBytes(num("peak_rss_bytes")).c_str());
    } else if (type == "log") {
        std::fprintf(stderr, "%s: %s\n", e.value("level", "info").c_str(), e.value("message", "").c_str());
    }
}

int printEstimate(const std::string& path, bool json)
{
    const ft::train::RunConfig config = ft::train::estimateConfig(
        ft::io::readJsonFile(path), path, std::filesystem::absolute(path).parent_path().string());
    const ft::train::RunEstimate e = ft::train::estimateRun(config);
    if (json) {
        std::cout << ft::train::toJson(e).dump() << '\n';
        return 0;
    }
    const double share = e.totalParameters > 0 ? 100.0 * double(e.trainableParameters) / double(e.totalParameters) : 0;
    std::printf("technique %s on %s (%s)\n", config.technique.technique.c_str(), e.device.c_str(), e.dtype.c_str());
    std::printf("trainable parameters: %s of %s (%.3g %%)\n", formatCount(double(e.trainableParameters)).c_str(),
                formatCount(double(e.totalParameters)).c_str(), share);
    std::printf("memory: %s\n", e.memory.summary().c_str());
    if (e.processes > 1)
        std::printf("processes: %lld (the memory above is per process%s; this machine has %lld %s)\n",
                    (long long)e.processes, config.distributed.shardOptimizer ? ", optimizer state sharded" : "",
                    (long long)e.parallelDevices, e.parallelUnit.c_str());
    if (e.availableBytes > 0)
        std::printf("%s: %s available%s\n", e.device.c_str(), formatBytes(double(e.availableBytes)).c_str(),
                    e.fits ? "" : " -- will not fit: lower the batch size or sequence length, turn on gradient "
                                  "checkpointing, or use qlora");
    return 0;
}

// --check-data: the run's rows as training will read them, and what would go wrong
// silently (engine/data_checks.h). Exit 1 when a finding is an error.
int printDataChecks(const ft::train::RunConfig& config, bool json)
{
    auto tokenizer = ft::tok::loadTokenizer(config.model);
    const ft::engine::DataCheckReport report = ft::engine::checkRunData(config, *tokenizer);
    const bool errors = std::any_of(report.findings.begin(), report.findings.end(),
                                    [](const ft::engine::DataFinding& f) { return f.severity == "error"; });
    if (json) {
        std::cout << ft::engine::dataCheckJson(report).dump() << '\n';
        return errors ? 1 : 0;
    }
    std::printf("%s: %lld training and %lld held-out %s rows\n", report.source.c_str(), (long long)report.trainRows,
                (long long)report.evalRows, report.kind.c_str());
    if (report.findings.empty())
        std::printf("no problem found\n");
    for (const auto& f : report.findings) {
        std::string ids;
        for (size_t i = 0; i < f.rows.size() && i < 12; ++i)
            ids += (i ? ", " : "") + std::to_string(f.rows[i]);
        if (f.rows.size() > 12 || int64_t(f.rows.size()) < f.count)
            ids += ", ...";
        std::printf("%-7s %s%s\n", f.severity.c_str(), f.message.c_str(),
                    ids.empty() ? "" : (" (rows " + ids + ")").c_str());
    }
    return errors ? 1 : 0;
}

} // namespace

int runTrain(int argc, char** argv)
{
    ArgParser p("train", "Fine-tune a model as described by a run config (see docs/run-config.md).");
    p.option("config", "FILE", "the run config (JSON)");
    p.option("events", "FILE|-", "write events as JSON lines to FILE, or to stdout with -");
    p.flag("resume", "continue from the last complete checkpoint in the config's output_dir");
    p.flag("schema", "print the run config's schema (every setting, default, range and help) as JSON and exit");
    p.flag("check", "validate the config (and that its files exist) and exit");
    p.flag("estimate", "print the trainable parameters and the memory the run needs, and whether it fits the "
                       "device, from the model's config.json alone (data and output_dir may be missing), and exit");
    p.flag("check-data", "read the run's rows as training will and report what would go wrong silently (rows cut "
                         "by max_seq_len or dropped, no assistant span, eval prompts also in train, KTO imbalance), "
                         "with row ids; exit 1 on an error, and exit");
    p.flag("json", "with --estimate or --check-data: print JSON");
    p.flag("no-stdin", "do not read control commands from stdin");
    p.flag("quiet", "no progress lines on stderr");
    p.option("nproc-per-node", "N", "train data-parallel on N processes of this machine (overrides "
                                    "distributed.processes; under torchrun or srun their variables decide)");
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    if (p.has("schema")) {
        std::cout << ft::train::runConfigSchema().dump(2) << '\n';
        return 0;
    }
    if (p.has("estimate"))
        return printEstimate(requireOption(p, "config"), p.has("json"));
    ft::train::RunConfig config = ft::train::loadRunConfig(requireOption(p, "config"));
    if (p.has("resume"))
        config.resume = true;
    if (p.has("check")) {
        std::cout << ft::train::toJson(config).dump(2) << '\n';
        return 0;
    }
    if (p.has("check-data"))
        return printDataChecks(config, p.has("json"));
    const ft::dist::LaunchEnv launch = ft::dist::readLaunchEnv();
    int processes = int(config.distributed.processes);
    if (p.has("nproc-per-node")) {
        processes = int(p.getInt("nproc-per-node"));
        if (processes < 1 || processes > 1024)
            throw UsageError("--nproc-per-node must be between 1 and 1024, got " + std::to_string(processes));
    }
    if (!launch.distributed() && processes > 1) {
        std::vector<std::string> args;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            if (a == "--nproc-per-node") {
                ++i;
                continue;
            }
            if (a.rfind("--nproc-per-node=", 0) == 0)
                continue;
            args.push_back(a);
        }
        return launchRanks(processes, args);
    }

    // A rank other than 0 trains silently: rank 0 writes the events and the files.
    const bool writer = launch.rank == 0;
    ft::train::EventWriter events(writer && p.has("events") ? p.get("events") : "");
    if (writer && !p.has("quiet"))
        events.setListener(printEvent);
    ft::train::RunControl control;
    control.setNoticeCallback([&](const std::string& m) { events.log("warning", m); });
    control.start(p.has("no-stdin") || !writer ? -1 : STDIN_FILENO);
    std::unique_ptr<ft::dist::Communicator> communicator;
    if (launch.distributed()) {
        ft::dist::CommunicatorOptions options;
        options.backend = config.distributed.backend;
        options.timeout = std::chrono::seconds(config.distributed.timeoutSeconds);
        try {
            communicator = ft::dist::Communicator::connect(launch, options);
        } catch (const ft::Error& e) {
            events.write("error", {{"message", e.what()}});
            throw;
        }
    }
    const auto outcome = ft::engine::runTraining(config, events, control, communicator.get());
    return outcome.status == "finished" || outcome.status == "stopped" ? 0 : 1;
}

} // namespace ftcli
