// Writing a dataset to JSONL, JSON array, CSV/TSV or text (see exporter.h). Each row
// becomes one record in the chosen layout, built in a fixed key order so files diff
// well; CSV cells hold lists and objects as JSON text, which the importer reads back.
// Rows are read from the store a page at a time and streamed to a temporary file
// that is renamed into place only when complete.
#include "data/exporter.h"

#include "data/project_store.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace ft::data {

namespace {

using Ordered = nlohmann::ordered_json;

constexpr int64_t kExportPageSize = 2000;

SourceFormat formatFromPath(const std::string& path) {
    const size_t dot = path.find_last_of('.');
    const size_t slash = path.find_last_of('/');
    std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == "jsonl" || ext == "ndjson")
        return SourceFormat::Jsonl;
    if (ext == "json")
        return SourceFormat::JsonArray;
    if (ext == "csv")
        return SourceFormat::Csv;
    if (ext == "tsv")
        return SourceFormat::Tsv;
    if (ext == "txt" || ext == "text")
        return SourceFormat::Text;
    fail("cannot tell the export format from the name " + path + "; choose one of jsonl, json, csv, tsv, text");
}

Ordered messages(const nlohmann::json& list, bool shareGpt) {
    Ordered out = Ordered::array();
    for (const auto& m : list) {
        const std::string role = m.value("role", "");
        const std::string content = m.value("content", "");
        Ordered o;
        if (shareGpt)
            o = {{"from", role == "user" ? "human" : role == "assistant" ? "gpt" : role == "tool" ? "observation" : role},
                 {"value", content}};
        else
            o = {{"role", role}, {"content", content}};
        // Reasoning and tool calls travel with the message (OpenAI's layout), as imported.
        for (const char* key : {"reasoning_content", "tool_calls", "tool_call_id", "name"})
            if (m.contains(key))
                o[key] = m[key];
        out.push_back(std::move(o));
    }
    return out;
}

Ordered stringOrMessages(const nlohmann::json& v) {
    return v.is_array() ? messages(v, false) : Ordered(v);
}

// The record for one row in `layout` (Native: records.h names), keys in a fixed order.
Ordered recordFor(const Row& row, DatasetKind kind, Layout layout, bool metadata) {
    const nlohmann::json& f = row.fields;
    const bool native = layout == Layout::Native;
    Ordered r = Ordered::object();
    const auto copy = [&](const char* from, const char* to) {
        if (f.contains(from))
            r[to] = f[from];
    };
    switch (kind) {
    case DatasetKind::Instruction:
        copy("system", "system");
        copy("instruction", "instruction");
        copy("input", "input");
        copy("output", "output");
        break;
    case DatasetKind::Chat:
        if (layout == Layout::ShareGpt)
            r["conversations"] = messages(f.value("messages", nlohmann::json::array()), true);
        else
            r["messages"] = messages(f.value("messages", nlohmann::json::array()), false);
        copy("tools", "tools");
        break;
    case DatasetKind::Preference:
        r["prompt"] = stringOrMessages(f.value("prompt", nlohmann::json("")));
        r["chosen"] = stringOrMessages(f.value("chosen", nlohmann::json("")));
        r["rejected"] = stringOrMessages(f.value("rejected", nlohmann::json("")));
        break;
    case DatasetKind::Unpaired:
        copy("prompt", "prompt");
        copy("completion", "completion");
        copy("desirable", native ? "desirable" : "label");
        break;
    case DatasetKind::Verifiable:
        copy("prompt", "prompt");
        copy("reference", native ? "reference" : "answer");
        copy("verifier", "verifier");
        copy("verifier_settings", "verifier_settings");
        break;
    case DatasetKind::Text: copy("text", "text"); break;
    }
    if (!metadata)
        return r;
    r["tags"] = row.tags;
    r["notes"] = row.notes;
    r["split"] = splitName(row.split);
    if (kind == DatasetKind::Preference) {
        r["label_source"] = labelSourceName(row.labelSource);
        if (!row.annotator.empty())
            r["annotator"] = row.annotator;
        if (row.confidence)
            r["confidence"] = *row.confidence;
        if (!row.labeledAt.empty())
            r["labeled_at"] = row.labeledAt;
    }
    return r;
}

// CSV/TSV columns: the layout's keys, then the metadata keys.
std::vector<std::string> columnsFor(DatasetKind kind, Layout layout, bool metadata) {
    const bool native = layout == Layout::Native;
    std::vector<std::string> cols;
    switch (kind) {
    case DatasetKind::Instruction: cols = {"instruction", "input", "output", "system"}; break;
    case DatasetKind::Chat: cols = {layout == Layout::ShareGpt ? "conversations" : "messages"}; break;
    case DatasetKind::Preference: cols = {"prompt", "chosen", "rejected"}; break;
    case DatasetKind::Unpaired: cols = {"prompt", "completion", native ? "desirable" : "label"}; break;
    case DatasetKind::Verifiable: cols = {"prompt", native ? "reference" : "answer", "verifier", "verifier_settings"}; break;
    case DatasetKind::Text: cols = {"text"}; break;
    }
    if (metadata) {
        for (const char* c : {"tags", "notes", "split"})
            cols.push_back(c);
        if (kind == DatasetKind::Preference)
            for (const char* c : {"label_source", "annotator", "confidence", "labeled_at"})
                cols.push_back(c);
    }
    return cols;
}

std::string dumpJson(const Ordered& j, int64_t rowId) {
    try {
        return j.dump(-1, ' ', /*ensure_ascii=*/false, Ordered::error_handler_t::strict);
    } catch (const nlohmann::json::exception& e) {
        fail("cannot export row " + std::to_string(rowId) + ": " + e.what());
    }
}

std::string cellText(const Ordered& v, const std::string& column, int64_t rowId) {
    if (v.is_null())
        return "";
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_boolean())
        return v.get<bool>() ? "true" : "false";
    if (column == "tags" && v.is_array()) {
        // "a,b" reads best; a JSON list when a tag would not survive splitting on commas.
        std::string joined;
        for (const auto& t : v) {
            const std::string s = t.get<std::string>();
            if (s.find(',') != std::string::npos || s.find('"') != std::string::npos || s.empty() || s.front() == '[' ||
                std::isspace(static_cast<unsigned char>(s.front())) || std::isspace(static_cast<unsigned char>(s.back())))
                return dumpJson(v, rowId);
            joined += (joined.empty() ? "" : ",") + s;
        }
        return joined;
    }
    return dumpJson(v, rowId);
}

std::string csvQuote(const std::string& cell, char delimiter) {
    if (cell.find_first_of(std::string("\"\r\n") + delimiter) == std::string::npos)
        return cell;
    std::string out = "\"";
    for (char c : cell) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

// A document the text format can hold: it comes back as one document only if it has
// no blank line and no carriage return.
std::string textDocument(const Row& row) {
    const std::string text = row.fields.value("text", "");
    bool blankLine = true;  // the line being scanned is blank so far
    for (char c : text) {
        if (c == '\r')
            fail("row " + std::to_string(row.id) + " has a carriage return, which the text format cannot keep; export as jsonl");
        if (c == '\n') {
            if (blankLine)
                break;
            blankLine = true;
        } else if (c != ' ' && c != '\t')
            blankLine = false;
    }
    if (blankLine)
        fail("row " + std::to_string(row.id) +
             " has a blank line (or starts or ends with one), which separates documents in the text format; export as jsonl");
    return text;
}

// Writes to `path + ".tmp-<pid>"`, then fsyncs and renames over `path`.
class AtomicFile {
public:
    explicit AtomicFile(std::string path) : m_path(std::move(path)), m_tmp(m_path + ".tmp-" + std::to_string(::getpid())) {
        m_file = std::fopen(m_tmp.c_str(), "wb");
        if (!m_file)
            fail("cannot write " + m_path + ": " + std::strerror(errno));
    }
    ~AtomicFile() {
        if (m_file) {
            std::fclose(m_file);
            std::remove(m_tmp.c_str());
        }
    }
    void write(const std::string& s) {
        if (std::fwrite(s.data(), 1, s.size(), m_file) != s.size())
            fail("cannot write " + m_path + ": " + std::strerror(errno));
    }
    void commit() {
        const bool ok = std::fflush(m_file) == 0 && ::fsync(::fileno(m_file)) == 0;
        const int err = errno;
        std::fclose(m_file);
        m_file = nullptr;
        if (!ok || std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
            const int why = ok ? errno : err;
            std::remove(m_tmp.c_str());
            fail("cannot write " + m_path + ": " + std::strerror(why));
        }
    }

private:
    std::string m_path, m_tmp;
    std::FILE* m_file = nullptr;
};

} // namespace

int64_t exportDataset(const ProjectStore& store, const std::string& datasetName, const std::string& path,
                      const ExportOptions& options) {
    const DatasetInfo ds = store.requireDataset(datasetName);
    const SourceFormat format = options.format == SourceFormat::Auto ? formatFromPath(path) : options.format;
    const Layout layout = options.layout == Layout::Auto ? Layout::Native : options.layout;
    if (!layoutHolds(layout, ds.kind))
        fail("dataset '" + datasetName + "' holds " + datasetKindName(ds.kind) + " rows, which the " + layoutName(layout) +
             " layout cannot hold; use native or " + layoutName(publicLayoutFor(ds.kind)));
    bool metadata = options.includeMetadata.value_or(layout == Layout::Native);
    if (format == SourceFormat::Text) {
        if (ds.kind != DatasetKind::Text)
            fail("the text format holds only text datasets; dataset '" + datasetName + "' holds " +
                 datasetKindName(ds.kind) + " rows");
        if (options.includeMetadata.value_or(false))
            fail("the text format cannot hold tags, notes or splits; export as jsonl to keep them");
        metadata = false;
    }
    const char delimiter = format == SourceFormat::Tsv ? '\t' : ',';
    const std::vector<std::string> columns = columnsFor(ds.kind, layout, metadata);

    AtomicFile out(path);
    if (format == SourceFormat::Csv || format == SourceFormat::Tsv) {
        std::string header;
        for (size_t i = 0; i < columns.size(); ++i)
            header += (i ? std::string(1, delimiter) : "") + csvQuote(columns[i], delimiter);
        out.write(header + "\n");
    } else if (format == SourceFormat::JsonArray)
        out.write("[");

    RowQuery q;
    q.datasetId = ds.id;
    q.split = options.split;
    q.limit = kExportPageSize;
    int64_t written = 0;
    for (;;) {
        const std::vector<Row> page = store.query(q);
        for (const Row& row : page) {
            std::string line;
            if (format == SourceFormat::Text)
                line = (written ? "\n" : "") + textDocument(row) + "\n";
            else {
                const Ordered record = recordFor(row, ds.kind, layout, metadata);
                if (format == SourceFormat::Csv || format == SourceFormat::Tsv) {
                    for (size_t i = 0; i < columns.size(); ++i) {
                        const auto it = record.find(columns[i]);
                        const std::string cell = it == record.end() ? "" : cellText(*it, columns[i], row.id);
                        line += (i ? std::string(1, delimiter) : "") + csvQuote(cell, delimiter);
                    }
                    line += "\n";
                } else if (format == SourceFormat::JsonArray)
                    line = (written ? ",\n" : "\n") + dumpJson(record, row.id);  // one element per line
                else
                    line = dumpJson(record, row.id) + "\n";
            }
            out.write(line);
            ++written;
        }
        if (static_cast<int64_t>(page.size()) < q.limit)
            break;
        q.afterId = page.back().id;
    }
    if (format == SourceFormat::JsonArray)
        out.write(written ? "\n]\n" : "]\n");
    out.commit();
    return written;
}

} // namespace ft::data
