// Splitting a dataset file into raw records, each with the 1-based line it starts on:
// JSON Lines (one per non-blank line), JSON arrays (one per element, found by a scan
// that tracks strings and brackets so a broken element does not hide the others),
// CSV/TSV (RFC 4180 quoting, header row) and plain text (documents between blank
// lines). Records that are over-long, not UTF-8 or not parseable come back with an
// error instead of a value. Internal to the importer.
// Not here: layouts and conversion to rows (import_layouts.h).
#pragma once

#include "data/file_formats.h"
#include "io/mapped_file.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ft::data {

struct RawRecord {
    int64_t line = 0;
    // JSON: the value as parsed (not necessarily an object); CSV/TSV: an object of
    // column name -> cell text; Text: {"text": document}.
    nlohmann::json value;
    std::string error;  // non-empty: rejected while reading (value is null)
};

// Byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates and
// code points above U+10FFFF count as invalid), or npos when `text` is valid.
size_t invalidUtf8Offset(std::string_view text);

// The format for `path` from its extension, else from its first non-blank character.
// Throws ft::Error when it cannot tell.
SourceFormat detectSourceFormat(const std::string& path, std::string_view content);

class RecordReader {
public:
    // Maps the file and reads the CSV/TSV header. Throws ft::Error naming the file when
    // it cannot be read, is empty, or its header or opening '[' is missing.
    RecordReader(const std::string& path, SourceFormat format, size_t maxRowBytes);

    SourceFormat format() const { return m_format; }
    // CSV/TSV values are all text cells, where "" means absent and lists, objects and
    // booleans are written as text.
    bool cellsAreText() const { return m_format == SourceFormat::Csv || m_format == SourceFormat::Tsv; }
    const std::vector<std::string>& header() const { return m_header; }

    // The next record; false at the end of the file.
    bool next(RawRecord& out);

private:
    // The next physical line (CR of CRLF dropped) and its 1-based number; false at the end.
    bool takeLine(std::string_view& line, int64_t& lineNo);
    bool nextJsonLine(RawRecord& out);
    bool nextArrayElement(RawRecord& out);
    bool nextCsvRecord(RawRecord& out);
    bool nextTextDocument(RawRecord& out);

    // One CSV/TSV record as cells; false at the end. `error` set for an unterminated quote.
    bool readCsvFields(std::vector<std::string>& fields, int64_t& startLine, std::string_view& raw,
                       std::string& error);
    void skipWhitespace();
    // Checks size and UTF-8, then parses `text` as JSON into out.value (or sets out.error).
    void parseJson(std::string_view text, int64_t firstLine, RawRecord& out) const;
    bool checkRaw(std::string_view raw, RawRecord& out) const;

    std::string m_path;
    io::MappedFile m_file;
    std::string_view m_text;
    SourceFormat m_format;
    size_t m_maxRowBytes;
    size_t m_pos = 0;
    int64_t m_line = 1;  // line of m_text[m_pos]
    char m_delimiter = ',';
    std::vector<std::string> m_header;
    bool m_done = false;
    bool m_arrayUnclosed = false;
};

} // namespace ft::data
