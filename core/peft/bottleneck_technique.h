// What the bottleneck adapters' descriptor and their tuner (bottleneck_adapter.cpp) share.
#pragma once

#include <string>
#include <vector>

namespace ft::peft {

// The projections whose outputs the adapters follow for a placement (houlsby, pfeiffer).
std::vector<std::string> bottleneckTargets(const std::string& placement);

} // namespace ft::peft
