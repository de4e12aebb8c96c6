#include "peft/adapter.h"

#include "util/error.h"

namespace ft::peft {

std::string peftKey(const std::string& modulePath, const std::string& leaf)
{
    return "base_model.model." + modulePath + "." + leaf;
}

void Adapter::merge() { fail("technique '" + settings().technique + "' cannot be merged into the base weights"); }

void Adapter::unmerge() { fail("technique '" + settings().technique + "' cannot be merged, so there is nothing to unmerge"); }

void Adapter::mergeAndUnload(c10::ScalarType)
{
    fail("technique '" + settings().technique + "' cannot be merged into a plain model; save it as an adapter instead");
}

std::vector<std::pair<std::string, double>> Adapter::moduleNorms()
{
    std::vector<std::pair<std::string, double>> norms;
    for (auto& [name, t] : trainableParameters())
        norms.emplace_back(name, t.detach().to(at::kDouble).norm().item<double>());
    return norms;
}

AdaptersDisabled::AdaptersDisabled(std::vector<Adapter*> adapters)
{
    for (Adapter* a : adapters) {
        m_previous.emplace_back(a, a->enabled());
        if (a->enabled())
            a->setEnabled(false);
    }
}

AdaptersDisabled::~AdaptersDisabled()
{
    for (auto& [a, wasEnabled] : m_previous)
        if (wasEnabled)
            a->setEnabled(true);
}

} // namespace ft::peft
