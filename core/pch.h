// Precompiled header for ftcore: the heavy libtorch headers, parsed once.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
