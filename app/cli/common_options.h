// Options several subcommands share (--model, --device, --dtype, --threads) and
// how they are applied, so every command spells and treats them alike.
#pragma once

#include "cli/arg_parser.h"

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

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

std::string formatBytes(double bytes);
std::string formatCount(double n);  // 2.41 M

} // namespace ftcli
