#include "cli/common_options.h"

#include "base/make_base.h"
#include "model/generator.h"
#include "model/model_io.h"
#include "model/runtime.h"
#include "peft/adapter_io.h"
#include "util/error.h"
#include "util/paths.h"

#include <algorithm>
#include <cstdio>

namespace ftcli {

void addModelOption(ArgParser& p)
{
    p.option("model", "DIR", "Hugging Face model folder", "the embedded base model");
}

void addRuntimeOptions(ArgParser& p, const std::string& defaultDtype)
{
    p.option("device", "DEV", "auto, cpu, cuda or cuda:N", "auto");
    p.option("dtype", "T", "compute dtype: fp32, bf16 or fp16", defaultDtype);
    p.option("threads", "N", "intra-op CPU threads, 0 = all cores", "0");
}

Runtime applyRuntimeOptions(const ArgParser& p)
{
    Runtime r;
    try {
        r.threads = ft::configureThreads(static_cast<int>(p.getInt("threads")));
        r.device = ft::resolveDevice(p.get("device"));
        r.dtype = ft::parseDType(p.get("dtype"));
    } catch (const ft::Error& e) {
        throw UsageError(e.what());
    }
    return r;
}

std::string modelDirFrom(const ArgParser& p)
{
    if (p.has("model"))
        return p.get("model");
    const std::string dir = ft::defaultBaseModelDir();
    if (!ft::base::baseModelReady(dir))
        ft::fail("no --model given and the embedded base model is not built yet (" + dir +
                 "); run 'ftstudio-cli make-base' first");
    return dir;
}

std::string formatBytes(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

std::vector<std::string> splitCommaList(const std::string& list)
{
    std::vector<std::string> out;
    for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        if (comma > at)
            out.push_back(list.substr(at, comma - at));
        at = comma + 1;
    }
    return out;
}

std::string formatCount(double n)
{
    char buf[32];
    if (n >= 1e9)
        std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
    else if (n >= 1e6)
        std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
    else if (n >= 1e3)
        std::snprintf(buf, sizeof buf, "%.1f K", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

std::unique_ptr<ft::peft::Adapter> loadAdapterOption(const ArgParser& p, ft::model::LoadedModel& loaded,
                                                     const ft::tok::Tokenizer& tokenizer, const Runtime& rt,
                                                     const std::string& option)
{
    if (!p.has(option))
        return nullptr;
    ft::peft::ApplyContext context{&tokenizer};
    auto adapter = ft::peft::loadAdapter(p.get(option), loaded.model, "default", context);
    loaded.model->to(rt.device);
    loaded.model->eval();
    return adapter;
}

void requireValidSampling(const ft::model::SamplingOptions& sampling)
{
    try {
        ft::model::validateSamplingOptions(sampling);
    } catch (const ft::Error& e) {
        throw UsageError(e.what());
    }
}

std::string shellQuote(const std::string& s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

} // namespace ftcli
