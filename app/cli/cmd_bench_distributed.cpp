// ftstudio-cli bench --nproc-per-node N: data-parallel scaling on this machine. Runs the
// same short training (LoRA or full fine-tuning on the sample SFT data) on N processes
// with cores/N threads each, on 1 process with cores/N threads (one rank's share: the
// unit that scales, as one GPU of N) and on 1 process with every core (what one would
// run without data parallelism), interleaved --runs times, each a real `ftstudio-cli
// train` with its events read back. Prints tokens/s of each, the time per step spent
// in collectives (waiting for the slowest rank included), the scaling efficiency
// (tokens/s of N ranks / (N x one rank's share)) and the speed-up over 1 process on
// every core. Every rank trains --batch packed rows of --seq-len tokens per step (weak
// scaling, no imbalance between ranks).
#include "cli/commands.h"
#include "cli/common_options.h"

#include "io/json_file.h"
#include "util/error.h"
#include "util/paths.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace ftcli {

namespace {

struct RunFigures {
    double tokensPerSecond = 0;
    double allReduceSeconds = 0;  // per step
};

// One `train` run; the mean of its step events after `warmup` steps. Its messages go
// to `log`, shown when it fails.
RunFigures timeRun(const std::string& config, int processes, int64_t warmup, const std::string& log)
{
    std::string command = shellQuote(fs::read_symlink("/proc/self/exe").string()) + " train --config " +
                          shellQuote(config) + " --events - --quiet --no-stdin";
    if (processes > 1)
        command += " --nproc-per-node " + std::to_string(processes);
    command += " 2>" + shellQuote(log);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        ft::fail("cannot start ftstudio-cli train");
    // Throughput over the timed steps: their tokens / the time from the end of the
    // last warm-up step to the end of the last step.
    RunFigures f;
    int counted = 0;
    double tokens = 0, startedAt = -1, endedAt = 0;
    std::string line;
    char buffer[65536];
    bool finished = false;
    while (std::fgets(buffer, sizeof buffer, pipe)) {
        line += buffer;
        if (line.empty() || line.back() != '\n')
            continue;
        nlohmann::json e;
        try {
            e = nlohmann::json::parse(line);
        } catch (const std::exception&) {
            line.clear();
            continue;
        }
        line.clear();
        if (e.value("event", "") == "finished")
            finished = true;
        if (e.value("event", "") != "step")
            continue;
        if (e.value("step", int64_t(0)) == warmup) {
            startedAt = e.value("elapsed_s", 0.0);
            continue;
        }
        if (e.value("step", int64_t(0)) < warmup || startedAt < 0)
            continue;
        tokens += e.value("tokens", 0.0);
        endedAt = e.value("elapsed_s", 0.0);
        if (e.contains("distributed"))
            f.allReduceSeconds += e["distributed"].value("all_reduce_s", 0.0);
        ++counted;
    }
    const int status = ::pclose(pipe);
    if (status != 0 || !finished || counted == 0) {
        std::ifstream messages(log);
        std::cerr << messages.rdbuf();
        ft::fail("the " + std::to_string(processes) + "-process training run failed (its messages are above)");
    }
    f.tokensPerSecond = tokens / std::max(endedAt - startedAt, 1e-9);
    f.allReduceSeconds /= counted;
    return f;
}

} // namespace

int runBenchDistributed(int argc, char** argv)
{
    ArgParser p("bench",
                "Data-parallel scaling: the same short training (packed rows) on N processes of cores/N threads, on 1 "
                "process of cores/N threads and on 1 process of every core (real `train` runs, interleaved): tokens/s "
                "of each, time per step waiting in collectives, the scaling efficiency and the speed-up. Weak "
                "scaling: every rank trains --batch rows per step.");
    p.option("nproc-per-node", "N", "processes of the data-parallel run", "2");
    p.option("model", "DIR", "the model folder", "the embedded base (built by make-base)");
    p.option("technique", "NAME", "lora (r 16 on every linear layer) or full", "lora");
    p.option("batch", "N", "rows per rank per step", "4");
    p.option("seq-len", "N", "max_seq_len of the rows", "128");
    p.option("steps", "N", "timed steps per run", "8");
    p.option("warmup", "N", "steps run before timing (at least 1)", "2");
    p.option("runs", "N", "runs of each side, interleaved", "2");
    p.option("bucket-cap-mb", "MB", "distributed.bucket_cap_mb of the N-process runs", "25");
    p.option("data", "FILE", "training data", "datasets/sft/instructions.jsonl");
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    const int processes = int(p.getInt("nproc-per-node"));
    if (processes < 2 || processes > 1024)
        throw UsageError("--nproc-per-node must be between 2 and 1024 for the scaling benchmark");
    const std::string model = p.has("model") ? p.get("model") : ft::defaultBaseModelDir();
    if (!fs::exists(fs::path(model) / "config.json"))
        ft::fail("no model in '" + model + "' (run `ftstudio-cli make-base` or pass --model DIR)");
    const std::string technique = p.get("technique");
    if (technique != "lora" && technique != "full")
        throw UsageError("--technique must be lora or full");
    const int64_t warmup = p.getInt("warmup"), steps = p.getInt("steps"), runs = p.getInt("runs");
    if (warmup < 1 || steps < 1 || runs < 1)
        throw UsageError("--warmup, --steps and --runs must be at least 1");
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));

    const fs::path dir = fs::temp_directory_path() / ("ftstudio-bench-dp-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    auto configFor = [&](int ranks, int threads, int64_t run) {
        nlohmann::json technique_ = technique == "lora"
                                        ? nlohmann::json{{"name", "lora"}, {"r", 16}, {"target_modules", "all-linear"}}
                                        : nlohmann::json{{"name", "full"}};
        const std::string name = "run-" + std::to_string(ranks) + "x" + std::to_string(threads) + "-" + std::to_string(run);
        const std::string out = (dir / name).string();
        nlohmann::json c{{"model", fs::absolute(model).string()},
                         {"output_dir", out},
                         {"technique", technique_},
                         // Packed rows: every rank's batch is the same number of tokens,
                         // so the figures measure the scaling, not the ranks' imbalance.
                         {"objective", {{"name", "sft"}, {"packing", true}}},
                         {"data", {{"train", p.has("data") ? fs::absolute(p.get("data")).string()
                                                           : ft::datasetsDir() + "/sft/instructions.jsonl"}}},
                         {"training", {{"max_seq_len", p.getInt("seq-len")},
                                       {"batch_size", p.getInt("batch")},
                                       {"max_steps", warmup + steps},
                                       {"threads", threads},
                                       {"schedule", {{"name", "constant"}}}}},
                         {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                         {"checkpoint", {{"every_steps", 0}}},
                         {"distributed", {{"bucket_cap_mb", std::stod(p.get("bucket-cap-mb"))}}}};
        const std::string path = (dir / (name + ".json")).string();
        ft::io::writeJsonFileAtomic(path, c);
        return path;
    };

    std::printf("data-parallel bench: %s, %s, batch %lld per rank, seq %lld, %lld timed steps (+%lld warm-up), "
                "%lld runs each, %d cores\n",
                model.c_str(), technique.c_str(), (long long)p.getInt("batch"), (long long)p.getInt("seq-len"),
                (long long)steps, (long long)warmup, (long long)runs, cores);
    const int share = std::max(1, cores / processes);
    std::vector<RunFigures> one, all, many;
    for (int64_t run = 0; run < runs; ++run) {
        const std::string log = (dir / "train.log").string();
        one.push_back(timeRun(configFor(1, share, run), 1, warmup, log));
        all.push_back(timeRun(configFor(1, cores, run), 1, warmup, log));
        many.push_back(timeRun(configFor(processes, share, run), processes, warmup, log));
    }
    auto mean = [](const std::vector<RunFigures>& v, double RunFigures::*field) {
        double s = 0;
        for (const RunFigures& f : v)
            s += f.*field;
        return s / double(v.size());
    };
    const double tps1 = mean(one, &RunFigures::tokensPerSecond), tpsAll = mean(all, &RunFigures::tokensPerSecond),
                 tpsN = mean(many, &RunFigures::tokensPerSecond);
    std::printf("%-6s %-14s %12s %22s\n", "ranks", "threads/rank", "tokens/s", "collectives s/step");
    std::printf("%-6d %-14d %12.0f %22s\n", 1, share, tps1, "-");
    std::printf("%-6d %-14d %12.0f %22s\n", 1, cores, tpsAll, "-");
    std::printf("%-6d %-14d %12.0f %22.4f\n", processes, share, tpsN, mean(many, &RunFigures::allReduceSeconds));
    std::printf("scaling efficiency: %.2f  (tokens/s of %d ranks / (%d x 1 rank on %d thread%s))\n",
                tpsN / (double(processes) * tps1), processes, processes, share, share == 1 ? "" : "s");
    std::printf("speed-up over 1 process on all %d cores: %.2fx\n", cores, tpsN / tpsAll);
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}

} // namespace ftcli
