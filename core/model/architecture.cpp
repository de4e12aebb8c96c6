#include "model/architecture.h"

namespace ft::model {

namespace {
struct ArchRow {
    Arch arch;
    const char* modelType;
    const char* className;
};
constexpr ArchRow kArchitectures[] = {
    {Arch::Llama, "llama", "LlamaForCausalLM"},
    {Arch::Mistral, "mistral", "MistralForCausalLM"},
    {Arch::Qwen2, "qwen2", "Qwen2ForCausalLM"},
};
} // namespace

Arch archFromString(std::string_view name)
{
    for (const auto& row : kArchitectures)
        if (name == row.modelType || name == row.className)
            return row.arch;
    return Arch::Unknown;
}

const char* archName(Arch a)
{
    for (const auto& row : kArchitectures)
        if (row.arch == a)
            return row.modelType;
    return "unknown";
}

const char* archClassName(Arch a)
{
    for (const auto& row : kArchitectures)
        if (row.arch == a)
            return row.className;
    return "Unknown";
}

ArchTraits archTraits(Arch a)
{
    ArchTraits t;
    switch (a) {
    case Arch::Qwen2: t.qkvBias = true; break;
    case Arch::Mistral: t.slidingWindow = true; break;
    case Arch::Llama:
    case Arch::Unknown: break;
    }
    return t;
}

std::vector<Arch> registeredArchs()
{
    std::vector<Arch> out;
    for (const auto& row : kArchitectures)
        out.push_back(row.arch);
    return out;
}

std::string supportedArchList()
{
    std::string s;
    for (const auto& row : kArchitectures) {
        if (!s.empty())
            s += ", ";
        s += row.className;
    }
    return s;
}

} // namespace ft::model
