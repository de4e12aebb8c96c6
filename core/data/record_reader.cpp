// Raw records out of JSONL, JSON array, CSV/TSV and text files (see record_reader.h).
// The file is memory-mapped and scanned once; only one record is parsed at a time, so
// a large import does not hold the file's text twice.
#include "data/record_reader.h"

#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace ft::data {

namespace {

using util::isBlank;
using util::trim;

std::string lowerExtension(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    const size_t dot = path.find_last_of('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        return "";
    std::string ext = path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

char firstNonBlank(std::string_view s) {
    for (char c : s)
        if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n'))
            return c;
    return '\0';
}

// nlohmann's message is "[json.exception.parse_error.101] parse error at line L,
// column C: reason"; its position is relative to the record, so keep only the reason.
std::string parseReason(const std::string& message) {
    const size_t at = message.find("parse error");
    const size_t colon = at == std::string::npos ? at : message.find(": ", at);
    return colon == std::string::npos ? message : message.substr(colon + 2);
}

} // namespace

size_t invalidUtf8Offset(std::string_view text) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;  // no overlong forms
            if (c == 0xED)
                hi = 0x9F;  // no UTF-16 surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;  // nothing above U+10FFFF
        } else
            return i;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k < len; ++k)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return i;
        i += len;
    }
    return std::string_view::npos;
}

SourceFormat detectSourceFormat(const std::string& path, std::string_view content) {
    const std::string ext = lowerExtension(path);
    if (ext == "jsonl" || ext == "ndjson" || ext == "jsonlines")
        return SourceFormat::Jsonl;
    if (ext == "csv")
        return SourceFormat::Csv;
    if (ext == "tsv" || ext == "tab")
        return SourceFormat::Tsv;
    if (ext == "txt" || ext == "text" || ext == "md")
        return SourceFormat::Text;
    const char first = firstNonBlank(content);
    if (first == '[')
        return SourceFormat::JsonArray;
    // Many ".json" dataset files are really JSON Lines.
    if (first == '{' || ext == "json")
        return SourceFormat::Jsonl;
    fail("cannot tell the format of " + path + " from its extension or content; pass a format (" +
         sourceFormatList() + ")");
}

RecordReader::RecordReader(const std::string& path, SourceFormat format, size_t maxRowBytes)
    : m_path(path), m_file(io::MappedFile::open(path)), m_format(format), m_maxRowBytes(maxRowBytes) {
    m_text = std::string_view(reinterpret_cast<const char*>(m_file.data()), m_file.size());
    if (m_text.substr(0, 3) == "\xEF\xBB\xBF")  // a UTF-8 byte order mark is not content
        m_pos = 3;
    if (isBlank(m_text.substr(m_pos)))
        fail(path + " is empty: there are no records to import");
    if (m_format == SourceFormat::Auto)
        m_format = detectSourceFormat(path, m_text.substr(m_pos));

    if (m_format == SourceFormat::JsonArray) {
        skipWhitespace();
        if (m_text[m_pos] != '[')
            fail(path + " is not a JSON array: line " + std::to_string(m_line) + " starts with '" +
                 std::string(1, m_text[m_pos]) + "' where '[' was expected; for one object per line use the jsonl format");
        ++m_pos;
    } else if (cellsAreText()) {
        m_delimiter = m_format == SourceFormat::Tsv ? '\t' : ',';
        std::vector<std::string> cells;
        int64_t line = 0;
        std::string_view raw;
        std::string error;
        if (!readCsvFields(cells, line, raw, error) || !error.empty())
            fail(path + ": cannot read the header row: " + (error.empty() ? "the file has no rows" : error));
        std::set<std::string> seen;
        for (size_t i = 0; i < cells.size(); ++i) {
            std::string name = trim(cells[i]);
            if (name.empty())
                fail(path + ": column " + std::to_string(i + 1) + " of the header (line " + std::to_string(line) +
                     ") has no name; a header row naming every column is required");
            if (!seen.insert(name).second)
                fail(path + ": the header (line " + std::to_string(line) + ") names column '" + name + "' twice");
            m_header.push_back(std::move(name));
        }
    }
}

bool RecordReader::next(RawRecord& out) {
    out = RawRecord{};
    switch (m_format) {
    case SourceFormat::JsonArray: return nextArrayElement(out);
    case SourceFormat::Csv:
    case SourceFormat::Tsv: return nextCsvRecord(out);
    case SourceFormat::Text: return nextTextDocument(out);
    default: return nextJsonLine(out);
    }
}

void RecordReader::skipWhitespace() {
    while (m_pos < m_text.size() && std::isspace(static_cast<unsigned char>(m_text[m_pos]))) {
        if (m_text[m_pos] == '\n')
            ++m_line;
        ++m_pos;
    }
}

bool RecordReader::checkRaw(std::string_view raw, RawRecord& out) const {
    if (raw.size() > m_maxRowBytes) {
        out.error = "record is " + std::to_string(raw.size()) + " bytes, over the limit of " +
                    std::to_string(m_maxRowBytes) + " bytes";
        return false;
    }
    const size_t bad = invalidUtf8Offset(raw);
    if (bad != std::string_view::npos) {
        out.error = "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the record";
        return false;
    }
    return true;
}

void RecordReader::parseJson(std::string_view text, int64_t firstLine, RawRecord& out) const {
    if (!checkRaw(text, out))
        return;
    try {
        out.value = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // Point at the offending byte: its column, and its line when not the first.
        const size_t index = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
        const std::string_view before = text.substr(0, index);
        const int64_t line = firstLine + std::count(before.begin(), before.end(), '\n');
        const size_t nl = before.rfind('\n');
        const size_t column = 1 + (nl == std::string_view::npos ? index : index - nl - 1);
        out.error = "bad JSON: " + parseReason(e.what()) + " (at " +
                    (line != firstLine ? "line " + std::to_string(line) + ", " : std::string()) + "column " +
                    std::to_string(column) + ")";
        out.value = nullptr;
    } catch (const nlohmann::json::exception& e) {
        // Valid syntax that nlohmann cannot hold, e.g. a number beyond double's range
        // (out_of_range.406, found by fuzzing): "bad JSON: number overflow parsing '1e999'".
        std::string why = e.what();
        if (const size_t end = why.find("] "); why.rfind("[json.exception", 0) == 0 && end != std::string::npos)
            why = why.substr(end + 2);
        if (why.size() > 200)
            why = why.substr(0, 200) + "...";
        out.error = "bad JSON: " + why;
        out.value = nullptr;
    }
}

bool RecordReader::takeLine(std::string_view& line, int64_t& lineNo) {
    if (m_pos >= m_text.size())
        return false;
    size_t end = m_text.find('\n', m_pos);
    if (end == std::string_view::npos)
        end = m_text.size();
    line = m_text.substr(m_pos, end - m_pos);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    lineNo = m_line;
    m_pos = std::min(end + 1, m_text.size());
    ++m_line;
    return true;
}

bool RecordReader::nextJsonLine(RawRecord& out) {
    std::string_view line;
    int64_t lineNo = 0;
    while (takeLine(line, lineNo)) {
        if (isBlank(line))
            continue;
        out.line = lineNo;
        parseJson(line, lineNo, out);
        return true;
    }
    return false;
}

bool RecordReader::nextArrayElement(RawRecord& out) {
    if (m_done)
        return false;
    skipWhitespace();
    if (m_pos >= m_text.size() || m_arrayUnclosed) {
        m_done = true;
        out.line = m_line;
        out.error = "bad JSON: the array is not closed with ']' at the end of the file";
        return true;
    }
    if (m_text[m_pos] == ']') {
        m_done = true;
        ++m_pos;
        skipWhitespace();
        if (m_pos < m_text.size()) {
            out.line = m_line;
            out.error = "bad JSON: unexpected text after the array's closing ']'";
            return true;
        }
        return false;
    }
    // Find the element's end: a ',' or ']' outside strings and nested brackets.
    const size_t start = m_pos;
    const int64_t startLine = m_line;
    int depth = 0;
    bool inString = false;
    size_t i = m_pos;
    for (; i < m_text.size(); ++i) {
        const char c = m_text[i];
        if (c == '\n')
            ++m_line;
        if (inString) {
            if (c == '\\')
                ++i;  // an escaped character never ends the string (an escaped newline is invalid JSON anyway)
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"')
            inString = true;
        else if (c == '{' || c == '[')
            ++depth;
        else if (c == '}' || c == ']') {
            if (depth == 0)
                break;  // the array's own ']' (or a stray '}': parsing the element reports it)
            --depth;
        } else if (c == ',' && depth == 0)
            break;
    }
    std::string_view element = m_text.substr(start, std::min(i, m_text.size()) - start);
    while (!element.empty() && std::isspace(static_cast<unsigned char>(element.back())))
        element.remove_suffix(1);
    out.line = startLine;
    if (i >= m_text.size()) {
        if (inString || depth > 0) {
            m_done = true;  // nothing after an unterminated element can be delimited
            out.error = "bad JSON: the element is not terminated (a missing '\"', '}' or ']') before the end of the file";
            return true;
        }
        m_arrayUnclosed = true;
    }
    m_pos = i;
    if (i < m_text.size() && m_text[i] == ',')
        ++m_pos;
    else if (i < m_text.size() && m_text[i] == '}') {
        ++m_pos;  // a stray '}': consume it (and the ',' after it) so the scan moves on
        element = m_text.substr(start, i + 1 - start);
        skipWhitespace();
        if (m_pos < m_text.size() && m_text[m_pos] == ',')
            ++m_pos;
    }
    if (element.empty()) {
        out.error = "bad JSON: an empty array element (two commas in a row?)";
        return true;
    }
    parseJson(element, startLine, out);
    return true;
}

bool RecordReader::readCsvFields(std::vector<std::string>& fields, int64_t& startLine, std::string_view& raw,
                                 std::string& error) {
    fields.clear();
    while (m_pos < m_text.size()) {
        const size_t startPos = m_pos;
        startLine = m_line;
        std::string cell;
        bool sawQuote = false;
        bool endOfRecord = false;
        while (!endOfRecord) {
            if (m_pos < m_text.size() && m_text[m_pos] == '"') {
                // Quoted: runs to the next lone quote; "" is a literal quote; newlines are content.
                sawQuote = true;
                const int64_t quoteLine = m_line;
                ++m_pos;
                bool closed = false;
                while (m_pos < m_text.size()) {
                    const char c = m_text[m_pos++];
                    if (c == '"') {
                        if (m_pos < m_text.size() && m_text[m_pos] == '"') {
                            cell += '"';
                            ++m_pos;
                            continue;
                        }
                        closed = true;
                        break;
                    }
                    if (c == '\n')
                        ++m_line;
                    cell += c;
                }
                if (!closed) {
                    error = "unterminated quoted field: the quote opened on line " + std::to_string(quoteLine) +
                            " is never closed";
                    raw = m_text.substr(startPos);
                    return true;
                }
            }
            // Unquoted text (or text after a closing quote, kept as Python's csv does).
            while (m_pos < m_text.size() && m_text[m_pos] != m_delimiter && m_text[m_pos] != '\n')
                cell += m_text[m_pos++];
            if (m_pos >= m_text.size() || m_text[m_pos] == '\n') {
                if (!cell.empty() && cell.back() == '\r')
                    cell.pop_back();
                endOfRecord = true;
                if (m_pos < m_text.size()) {
                    ++m_pos;
                    ++m_line;
                }
            } else
                ++m_pos;  // the delimiter
            fields.push_back(std::move(cell));
            cell.clear();
        }
        raw = m_text.substr(startPos, m_pos - startPos);
        if (fields.size() == 1 && fields[0].empty() && !sawQuote) {
            fields.clear();  // a blank line is not a record
            continue;
        }
        return true;
    }
    return false;
}

bool RecordReader::nextCsvRecord(RawRecord& out) {
    std::vector<std::string> cells;
    std::string_view raw;
    std::string error;
    if (!readCsvFields(cells, out.line, raw, error))
        return false;
    const char* what = m_format == SourceFormat::Tsv ? "TSV" : "CSV";
    if (!error.empty()) {
        out.error = std::string(what) + ": " + error;
        return true;
    }
    if (!checkRaw(raw, out))
        return true;
    if (cells.size() != m_header.size()) {
        out.error = std::string(what) + " record has " + std::to_string(cells.size()) + " columns, the header has " +
                    std::to_string(m_header.size());
        return true;
    }
    out.value = nlohmann::json::object();
    for (size_t i = 0; i < cells.size(); ++i)
        out.value[m_header[i]] = std::move(cells[i]);
    return true;
}

bool RecordReader::nextTextDocument(RawRecord& out) {
    std::string doc;
    bool started = false;
    std::string_view line;
    int64_t lineNo = 0;
    while (takeLine(line, lineNo)) {
        if (isBlank(line)) {
            if (started)
                break;
            continue;
        }
        if (!started) {
            started = true;
            out.line = lineNo;
        } else
            doc += '\n';
        doc.append(line);
    }
    if (!started)
        return false;
    if (checkRaw(doc, out))
        out.value = nlohmann::json{{"text", std::move(doc)}};
    return true;
}

} // namespace ft::data
