// Reading and atomic writing of whole JSON files (see json_file.h).
#include "io/json_file.h"

#include "io/mapped_file.h"
#include "util/error.h"

#include <algorithm>
#include <span>
#include <string_view>

namespace ft::io {

namespace {

struct TextPosition {
    size_t line = 1;
    size_t column = 1;
};

// nlohmann reports the 1-based count of bytes read when it gave up, i.e. the
// offending byte is at index byte - 1. Columns count bytes, as editors showing
// ASCII would; clamped so an error at end of input points just past the text.
TextPosition positionOf(std::string_view text, size_t byte) {
    const size_t index = std::min(byte > 0 ? byte - 1 : 0, text.size());
    TextPosition pos;
    const std::string_view before = text.substr(0, index);
    pos.line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t lastNewline = before.rfind('\n');
    pos.column = 1 + (lastNewline == std::string_view::npos ? index : index - lastNewline - 1);
    return pos;
}

// nlohmann's message starts with "[json.exception.parse_error.101] parse error at
// line L, column C: "; the part after that prefix is the useful reason.
std::string parseReason(const std::string& message) {
    const size_t at = message.find("parse error");
    const size_t colon = at == std::string::npos ? at : message.find(": ", at);
    return colon == std::string::npos ? message : message.substr(colon + 2);
}

} // namespace

nlohmann::json readJsonFile(const std::string& path) {
    const MappedFile file = MappedFile::open(path);
    const std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        if (text.empty())
            fail("invalid JSON in " + path + ": the file is empty");
        const TextPosition pos = positionOf(text, e.byte);
        fail("invalid JSON in " + path + " at line " + std::to_string(pos.line) + ", column " +
             std::to_string(pos.column) + ": " + parseReason(e.what()));
    } catch (const nlohmann::json::exception& e) {
        fail("invalid JSON in " + path + ": " + e.what());
    }
}

void writeJsonFileAtomic(const std::string& path, const nlohmann::json& j, int indent) {
    std::string text;
    try {
        text = j.dump(indent);
    } catch (const nlohmann::json::exception& e) {
        // dump() throws on strings that are not valid UTF-8.
        fail("cannot write JSON file " + path + ": " + e.what());
    }
    text += '\n';
    writeFileAtomic(path, {std::span<const uint8_t>(
                              reinterpret_cast<const uint8_t*>(text.data()), text.size())});
}

} // namespace ft::io
