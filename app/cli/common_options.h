// Options several subcommands share (--model, --device, --dtype, --threads) and
// how they are applied, so every command spells and treats them alike.
#pragma once

#include "cli/arg_parser.h"

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

namespace ft::model {
struct LoadedModel;
struct SamplingOptions;
}
namespace ft::peft {
class Adapter;
}
namespace ft::tok {
class Tokenizer;
}

namespace ftcli {

void addModelOption(ArgParser& p);
void addRuntimeOptions(ArgParser& p, const std::string& defaultDtype = "fp32");

struct Runtime {
    c10::Device device = c10::Device(c10::kCPU);
    c10::ScalarType dtype = c10::kFloat;
    int threads = 1;
};
// Applies --threads and resolves --device/--dtype; a bad value is a UsageError.
Runtime applyRuntimeOptions(const ArgParser& p);

// --model, or the embedded base model (with a hint to build it when missing).
std::string modelDirFrom(const ArgParser& p);

// --adapter (or the option named), when given: that adapter folder applied to `loaded`
// (moved to the runtime's device, in eval mode); null otherwise.
std::unique_ptr<ft::peft::Adapter> loadAdapterOption(const ArgParser& p, ft::model::LoadedModel& loaded,
                                                     const ft::tok::Tokenizer& tokenizer, const Runtime& rt,
                                                     const std::string& option = "adapter");
// Sampling settings checked as a usage error (exit 2) naming the option.
void requireValidSampling(const ft::model::SamplingOptions& sampling);

std::string formatBytes(double bytes);
std::string formatCount(double n);  // 2.41 M
// "a,b,,c" -> {"a", "b", "c"}: an option's comma-separated list, empty items dropped.
std::vector<std::string> splitCommaList(const std::string& list);
// `s` in single quotes for /bin/sh (a command line of a child ftstudio-cli).
std::string shellQuote(const std::string& s);

} // namespace ftcli
