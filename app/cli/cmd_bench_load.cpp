// ftstudio-cli bench load: the time and peak memory of loading a large checkpoint
// (see core/base/bench_load.h). The parent writes the checkpoint, then runs each
// measurement in a fresh child process of this same binary (--measure), whose one
// JSON line it reads back, so no allocator state carries over between loads.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "base/bench_load.h"
#include "model/model_io.h"
#include "model/runtime.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace ftcli {

namespace {

constexpr double kLimit = 1.15;  // peak above the starting RSS / tensors, at most

// The child's side: one load, one JSON line on stdout.
// "nf4": a QLoRA base (bf16, the decoder projections quantized while loading).
constexpr const char* kNf4 = "nf4";

int measureOnce(const std::string& dir, const std::string& dtype)
{
    const ft::base::LoadMeasurement m =
        dtype == kNf4 ? ft::base::measureLoad(dir, c10::kBFloat16, /*nf4Projections=*/true)
                      : ft::base::measureLoad(dir, ft::parseDType(dtype));
    const nlohmann::json j{{"parameters", m.parameters}, {"tensor_bytes", m.tensorBytes}, {"rss_before", m.rssBefore},
                           {"peak_rss", m.peakRss},      {"seconds", m.seconds},          {"peak_is_own", m.peakIsOwn}};
    std::cout << j.dump() << std::endl;
    return 0;
}

ft::base::LoadMeasurement measureInChild(const std::string& dir, const std::string& dtype, int threads)
{
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        ft::fail("cannot find this program's path (/proc/self/exe) to run the measurement in a fresh process");
    exe[n] = '\0';
    const std::string command = shellQuote(exe) + " bench load --measure " + shellQuote(dir) + " --dtype " +
                                shellQuote(dtype) + " --threads " + std::to_string(threads);
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe)
        ft::fail("cannot start the measuring process: " + command);
    std::string output;
    char buf[4096];
    while (size_t got = std::fread(buf, 1, sizeof buf, pipe))
        output.append(buf, got);
    const int status = ::pclose(pipe);
    const size_t brace = output.rfind('{');
    if (status != 0 || brace == std::string::npos)
        ft::fail("loading " + dir + " into " + dtype + " failed (the measuring process " +
                 (WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status)) : std::string("was killed")) +
                 "; its error is above)");
    const nlohmann::json j = nlohmann::json::parse(output.substr(brace));
    ft::base::LoadMeasurement m;
    m.parameters = j.at("parameters");
    m.tensorBytes = j.at("tensor_bytes");
    m.rssBefore = j.at("rss_before");
    m.peakRss = j.at("peak_rss");
    m.seconds = j.at("seconds");
    m.peakIsOwn = j.at("peak_is_own");
    return m;
}

} // namespace

int runBenchLoad(int argc, char** argv)
{
    ArgParser p("bench load",
                "Measure loading a checkpoint: write a synthetic Llama checkpoint (TinyLlama-1.1B's shape, "
                "1.1 B parameters) or take --model DIR, then load it into each dtype in a fresh process and print the "
                "load time and the peak resident memory above the starting point, as a ratio to the weights' size "
                "in that dtype (limit " + std::to_string(kLimit).substr(0, 4) + ").");
    p.option("model", "DIR", "measure this model folder instead of writing a synthetic one");
    p.option("dir", "DIR", "where to write the synthetic checkpoint (kept afterwards)", "a temporary folder, removed");
    p.option("layers", "N", "decoder layers of the synthetic checkpoint (22: 1.1 B parameters)", "22");
    p.option("store-dtype", "DTYPE", "dtype of the synthetic checkpoint's tensors: bf16, fp16 or fp32", "bf16");
    p.option("shard-mb", "N", "largest shard of the synthetic checkpoint, in MB", "1000");
    p.option("dtypes", "LIST", "dtypes to load into, comma-separated; nf4 = a QLoRA base (bf16 with every decoder "
                               "projection quantized to NF4 while loading)", "bf16,fp32");
    p.flag("warm", "keep the files in the page cache (default: dropped before each load, so it reads the disk)");
    p.option("measure", "DIR", "(internal) load DIR once in this process and print one JSON line");
    p.option("dtype", "DTYPE", "(internal) the dtype for --measure", "bf16");
    p.option("threads", "N", "CPU threads (0: all cores)", "0");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    const int threads = ft::configureThreads(int(p.getInt("threads")));
    if (p.has("measure"))
        return measureOnce(p.get("measure"), p.get("dtype"));

    const std::vector<std::string> dtypes = splitCommaList(p.get("dtypes"));
    if (dtypes.empty())
        throw UsageError("--dtypes lists no dtype");
    std::vector<std::string> named = dtypes;
    named.push_back(p.get("store-dtype"));
    for (const std::string& d : named)  // checked before anything is written
        try {
            if (d != kNf4 || &d == &named.back())  // nf4 is a way to load, not a way to store
                ft::parseDType(d);
        } catch (const ft::Error& e) {
            throw UsageError(e.what());
        }
    std::string dir;
    bool removeAfter = false;
    if (p.has("model")) {
        dir = p.get("model");
        ft::model::requireModelFolder(dir);
        std::printf("bench load: %s\n", dir.c_str());
    } else {
        const int64_t layers = p.getInt("layers");
        if (layers <= 0)
            throw UsageError("--layers must be positive");
        if (p.getInt("shard-mb") <= 0)
            throw UsageError("--shard-mb must be positive");
        removeAfter = !p.has("dir");
        dir = p.has("dir") ? p.get("dir")
                           : (fs::temp_directory_path() / ("ftstudio-bench-load-" + std::to_string(::getpid()))).string();
        const auto config = ft::base::syntheticCheckpointConfig(layers);
        std::printf("bench load: writing a synthetic Llama checkpoint, %s parameters (TinyLlama-1.1B's shape%s), %s, to %s\n",
                    formatCount(double(config.parameterCount())).c_str(), layers == 22 ? "" : ", fewer layers",
                    ft::dtypeLabel(ft::parseDType(p.get("store-dtype"))).c_str(), dir.c_str());
        std::fflush(stdout);
        const auto written = ft::base::writeSyntheticCheckpoint(config, dir, ft::parseDType(p.get("store-dtype")),
                                                                p.getInt("shard-mb") * 1000 * 1000, 0);
        std::printf("written: %s in %lld shard(s), %.1f s\n", formatBytes(double(written.bytes)).c_str(),
                    (long long)written.shards, written.seconds);
    }
    std::printf("\n%-6s %12s %10s %12s %12s %14s %8s\n", "load", "weights", "load s", "RSS before", "peak RSS",
                "peak - before", "ratio");
    std::fflush(stdout);
    bool allWithin = true;
    try {
        for (const std::string& d : dtypes) {
            if (!p.has("warm"))
                ft::base::dropFromPageCache(dir);
            const ft::base::LoadMeasurement m = measureInChild(dir, d, threads);
            const bool within = m.ratio() <= kLimit;
            allWithin = allWithin && within;
            std::printf("%-6s %12s %10.2f %12s %12s %14s %8.3f  %s %.2f\n",
                        d == kNf4 ? "NF4" : ft::dtypeLabel(ft::parseDType(d)).c_str(),
                        formatBytes(double(m.tensorBytes)).c_str(), m.seconds, formatBytes(double(m.rssBefore)).c_str(),
                        formatBytes(double(m.peakRss)).c_str(), formatBytes(double(m.peakRss - m.rssBefore)).c_str(),
                        m.ratio(), within ? "within" : "OVER", kLimit);
            if (!m.peakIsOwn)
                std::printf("       (the kernel refused to reset the peak: it includes the process's start-up)\n");
            std::fflush(stdout);
        }
    } catch (...) {
        if (removeAfter)
            fs::remove_all(dir);
        throw;
    }
    std::printf("ratio = (peak RSS - RSS before the load) / the weights' size in that dtype (NF4: what stays, the "
                "4-bit projections and the rest in bf16); each load runs in a fresh process%s\n",
                p.has("warm") ? "" : ", with the files dropped from the page cache first");
    if (removeAfter)
        fs::remove_all(dir);
    return allWithin ? 0 : 1;
}

} // namespace ftcli
