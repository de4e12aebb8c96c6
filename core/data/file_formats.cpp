// Names of file formats and layouts, and which dataset kind each layout holds
// (see file_formats.h). One table per enum so a name is typed once.
#include "data/file_formats.h"
#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace ft::data {

namespace {

struct FormatName {
    SourceFormat format;
    const char* name;
};
constexpr FormatName kFormats[] = {
    {SourceFormat::Auto, "auto"}, {SourceFormat::Jsonl, "jsonl"}, {SourceFormat::JsonArray, "json"},
    {SourceFormat::Csv, "csv"},   {SourceFormat::Tsv, "tsv"},     {SourceFormat::Text, "text"},
};

struct LayoutInfo {
    Layout layout;
    const char* name;
    std::optional<DatasetKind> kind;
};
constexpr LayoutInfo kLayouts[] = {
    {Layout::Auto, "auto", std::nullopt},
    {Layout::Alpaca, "alpaca", DatasetKind::Instruction},
    {Layout::ShareGpt, "sharegpt", DatasetKind::Chat},
    {Layout::OpenAiMessages, "openai", DatasetKind::Chat},
    {Layout::TrlPreference, "trl", DatasetKind::Preference},
    {Layout::Kto, "kto", DatasetKind::Unpaired},
    {Layout::Verifiable, "verifiable", DatasetKind::Verifiable},
    {Layout::PlainText, "text", DatasetKind::Text},
    {Layout::Native, "native", std::nullopt},
};

} // namespace

const char* sourceFormatName(SourceFormat f) {
    for (const auto& entry : kFormats)
        if (entry.format == f)
            return entry.name;
    return "?";
}

std::optional<SourceFormat> sourceFormatFromName(std::string_view name) {
    const std::string n = util::toLower(name);
    for (const auto& entry : kFormats)
        if (n == entry.name)
            return entry.format;
    if (n == "ndjson")
        return SourceFormat::Jsonl;
    if (n == "txt")
        return SourceFormat::Text;
    return std::nullopt;
}

std::string sourceFormatList() {
    std::string out;
    for (const auto& entry : kFormats)
        out += (out.empty() ? "" : ", ") + std::string(entry.name);
    return out;
}

const char* layoutName(Layout l) {
    for (const auto& entry : kLayouts)
        if (entry.layout == l)
            return entry.name;
    return "?";
}

std::optional<Layout> layoutFromName(std::string_view name) {
    const std::string n = util::toLower(name);
    for (const auto& entry : kLayouts)
        if (n == entry.name)
            return entry.layout;
    static const std::pair<const char*, Layout> aliases[] = {
        {"messages", Layout::OpenAiMessages}, {"preference", Layout::TrlPreference},
        {"dpo", Layout::TrlPreference},       {"plain", Layout::PlainText},
        {"share-gpt", Layout::ShareGpt},      {"openai-messages", Layout::OpenAiMessages},
    };
    for (const auto& [alias, layout] : aliases)
        if (n == alias)
            return layout;
    return std::nullopt;
}

std::string layoutList() {
    std::string out;
    for (const auto& entry : kLayouts)
        out += (out.empty() ? "" : ", ") + std::string(entry.name);
    return out;
}

std::optional<DatasetKind> layoutKind(Layout l) {
    for (const auto& entry : kLayouts)
        if (entry.layout == l)
            return entry.kind;
    return std::nullopt;
}

Layout publicLayoutFor(DatasetKind k) {
    switch (k) {
    case DatasetKind::Instruction: return Layout::Alpaca;
    case DatasetKind::Chat: return Layout::OpenAiMessages;
    case DatasetKind::Preference: return Layout::TrlPreference;
    case DatasetKind::Unpaired: return Layout::Kto;
    case DatasetKind::Verifiable: return Layout::Verifiable;
    case DatasetKind::Text: return Layout::PlainText;
    }
    return Layout::Native;
}

bool layoutHolds(Layout l, DatasetKind k) {
    if (l == Layout::Native)
        return true;
    return layoutKind(l) == k;
}

} // namespace ft::data
