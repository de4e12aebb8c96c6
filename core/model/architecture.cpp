#include "model/architecture.h"

#include "util/error.h"

namespace ft::model {

// Each family's file defines its descriptor (architecture.h); this is the one list.
const Architecture& llamaArchitecture();
const Architecture& mistralArchitecture();
const Architecture& qwen2Architecture();
const Architecture& qwen3Architecture();
const Architecture& gemma2Architecture();
const Architecture& gemma3TextArchitecture();
const Architecture& smolLM3Architecture();
const Architecture& olmo2Architecture();
const Architecture& phi3Architecture();
const Architecture& qwen3MoeArchitecture();
const Architecture& mixtralArchitecture();
const Architecture& olmoeArchitecture();

namespace {

const std::vector<const Architecture*>& kArchitectures()
{
    static const std::vector<const Architecture*> list = {&llamaArchitecture(), &mistralArchitecture(),
                                                          &qwen2Architecture(), &qwen3Architecture(),
                                                          &gemma2Architecture(), &gemma3TextArchitecture(),
                                                          &smolLM3Architecture(), &olmo2Architecture(),
                                                          &phi3Architecture(), &qwen3MoeArchitecture(),
                                                          &mixtralArchitecture(), &olmoeArchitecture()};
    return list;
}

const Architecture* find(Arch a)
{
    for (const Architecture* row : kArchitectures())
        if (row->arch == a)
            return row;
    return nullptr;
}

} // namespace

const Architecture& architecture(Arch a)
{
    if (const Architecture* row = find(a))
        return *row;
    fail("unknown architecture; supported: " + supportedArchList());
}

Arch archFromString(std::string_view name)
{
    for (const Architecture* row : kArchitectures())
        if (name == row->modelType || name == row->className)
            return row->arch;
    return Arch::Unknown;
}

const Architecture* multimodalArchitecture(std::string_view name)
{
    for (const Architecture* row : kArchitectures())
        if (row->multimodal && (name == row->multimodal->modelType || name == row->multimodal->className))
            return row;
    return nullptr;
}

const char* archName(Arch a)
{
    const Architecture* row = find(a);
    return row ? row->modelType : "unknown";
}

const char* archClassName(Arch a)
{
    const Architecture* row = find(a);
    return row ? row->className : "Unknown";
}

ArchTraits archTraits(Arch a)
{
    const Architecture* row = find(a);
    return row ? row->traits : ArchTraits{};
}

std::vector<Arch> registeredArchs()
{
    std::vector<Arch> out;
    for (const Architecture* row : kArchitectures())
        out.push_back(row->arch);
    return out;
}

std::string supportedArchList()
{
    std::string s;
    for (const Architecture* row : kArchitectures()) {
        if (!s.empty())
            s += ", ";
        s += row->className;
        if (row->multimodal)
            s += std::string(", ") + row->multimodal->className + " (text)";
    }
    return s;
}

} // namespace ft::model
