// Importing a file: records from record_reader, layout detection and conversion from
// import_layouts, validation, and the single transaction that writes the rows
// (see importer.h). Rows are inserted in batches inside that one transaction, so a
// million-row file never sits in memory as rows, and a rollback (an all-or-nothing
// rejection, an error, a kill) still leaves the project as it was.
#include "data/importer.h"

#include "data/import_layouts.h"
#include "data/project_store.h"
#include "data/record_reader.h"
#include "util/error.h"

#include <algorithm>
#include <functional>

namespace ft::data {

std::string RejectedRecord::message() const { return file + ":" + std::to_string(line) + ": " + reason; }

namespace {

// Rows handed to the store at a time; all batches share the import's one transaction.
constexpr size_t kInsertBatch = 4096;
// How many object records may go by without one fitting a layout before giving up.
constexpr size_t kDetectionWindow = 100;

std::string keyList(const nlohmann::json& object) {
    std::string out;
    for (const auto& [key, value] : object.items())
        out += (out.empty() ? "" : ", ") + key;
    return "{" + out + "}";
}

std::string layoutsWithKeys(const std::vector<Layout>& layouts) {
    std::string out;
    for (Layout l : layouts)
        out += (out.empty() ? "" : ", ") + std::string(layoutName(l)) + " (" + requiredKeysText(l) + ")";
    return out;
}

// Streams one file's records as rows or rejections, in file order. `kind`, when set,
// is what the rows must be: the kind of the existing dataset `dataset`, or (with
// `dataset` empty) the kind asked for.
class RowSource {
public:
    RowSource(std::string path, const ImportOptions& options, std::optional<DatasetKind> kind, std::string dataset)
        : m_path(std::move(path)), m_options(options), m_kind(kind), m_dataset(std::move(dataset)) {}

    SourceFormat format = SourceFormat::Auto;
    Layout layout = Layout::Auto;  // as reported: Native stays Native
    std::optional<DatasetKind> kind;

    void run(const std::function<void(Row&&, int64_t)>& onRow, const std::function<void(RejectedRecord&&)>& onReject) {
        RecordReader reader(m_path, m_options.format, m_options.maxRowBytes);
        format = reader.format();
        chooseExplicitLayout();
        if (reader.cellsAreText())
            detectFromHeader(reader.header());

        std::vector<RawRecord> pending;  // held back until the layout is known
        size_t objectsSeen = 0;
        int64_t records = 0;
        const auto emit = [&](RawRecord& rec) {
            if (!rec.error.empty()) {
                onReject({m_path, rec.line, rec.error});
                return;
            }
            Row row;
            std::string reason = convertRecord(m_concrete, rec.value, reader.cellsAreText(), m_options, row);
            if (reason.empty())
                onRow(std::move(row), rec.line);
            else
                onReject({m_path, rec.line, std::move(reason)});
        };
        RawRecord rec;
        while (reader.next(rec)) {
            ++records;
            if (rec.error.empty())
                applyMapping(rec.value, m_options.mapping);
            if (m_concrete == Layout::Auto) {
                if (rec.error.empty() && rec.value.is_object()) {
                    ++objectsSeen;
                    detectFromRecord(rec);
                }
                if (m_concrete == Layout::Auto) {
                    if (objectsSeen >= kDetectionWindow)
                        failUndetected(pending);
                    pending.push_back(std::move(rec));
                    continue;
                }
                for (auto& held : pending)
                    emit(held);
                pending.clear();
            }
            emit(rec);
        }
        if (records == 0)
            fail(m_path + " contains no records");
        if (m_concrete == Layout::Auto) {
            if (objectsSeen > 0)
                failUndetected(pending);
            for (auto& held : pending)  // nothing but broken records: report them all
                onReject({m_path, held.line, held.error.empty() ? notAnObjectReason(held.value) : held.error});
        }
    }

private:
    void chooseExplicitLayout() {
        Layout asked = m_options.layout;
        if (format == SourceFormat::Text) {
            // A text file is documents; only the plain-text layout reads it.
            if (asked != Layout::Auto && asked != Layout::PlainText && asked != Layout::Native)
                fail(m_path + " is a plain text file: it holds text documents, not " + layoutName(asked) + " records");
            asked = Layout::PlainText;
        }
        if (asked == Layout::Native) {
            if (!m_kind)
                fail("importing " + m_path + " in the native layout needs a dataset kind (" + datasetKindList() + ")");
            setLayout(Layout::Native, publicLayoutFor(*m_kind));
        } else if (asked != Layout::Auto)
            setLayout(asked, asked);
    }

    void setLayout(Layout reported, Layout concrete) {
        const DatasetKind k = *layoutKind(concrete);
        if (m_kind && *m_kind != k)
            fail(m_path + " holds " + layoutName(concrete) + " records (" + datasetKindName(k) + " rows), but " +
                 (m_dataset.empty() ? std::string(datasetKindName(*m_kind)) + " rows were asked for"
                                    : "dataset '" + m_dataset + "' holds " + datasetKindName(*m_kind) + " rows"));
        layout = reported;
        m_concrete = concrete;
        kind = k;
    }

    // The candidates among `found` that fit the required kind; fails on a mismatch or ambiguity.
    void decide(const std::vector<Layout>& found, const std::string& where) {
        std::vector<Layout> fitting;
        for (Layout l : found)
            if (!m_kind || layoutHolds(l, *m_kind))
                fitting.push_back(l);
        if (fitting.empty() && !found.empty())
            setLayout(found.front(), found.front());  // fails with the kind mismatch
        if (fitting.size() > 1)
            fail(where + " fits several layouts: " + layoutsWithKeys(fitting) + "; choose the layout");
        if (fitting.size() == 1)
            setLayout(fitting.front(), fitting.front());
    }

    void detectFromHeader(const std::vector<std::string>& header) {
        for (const auto& [field, column] : m_options.mapping.fieldToColumn)
            if (std::find(header.begin(), header.end(), column) == header.end())
                fail(m_path + " has no column '" + column + "' (mapped to '" + field + "'); its columns are " +
                     keyList(namesObject(header)));
        if (m_concrete != Layout::Auto)
            return;
        nlohmann::json names = namesObject(header);
        applyMapping(names, m_options.mapping);
        std::vector<std::string> keys;
        for (const auto& [key, value] : names.items())
            keys.push_back(key);
        std::vector<Layout> found = matchingLayouts(keys);
        if (m_kind == DatasetKind::Text && names.contains("text"))
            found = {Layout::PlainText};  // a text dataset takes the text column beside any others
        decide(found, "the header of " + m_path);
        if (m_concrete == Layout::Auto)
            fail("cannot tell the layout of " + m_path + " from its columns " + keyList(names) + "; expected " +
                 layoutsWithKeys(allLayouts()) + "; choose the layout or map the columns");
    }

    void detectFromRecord(const RawRecord& rec) {
        std::vector<std::string> keys;
        for (const auto& [key, value] : rec.value.items())
            keys.push_back(key);
        std::vector<Layout> found = matchingLayouts(keys);
        if (m_kind == DatasetKind::Text && rec.value.contains("text"))
            found = {Layout::PlainText};
        decide(found, "the record at line " + std::to_string(rec.line) + " of " + m_path);
    }

    [[noreturn]] void failUndetected(const std::vector<RawRecord>& pending) {
        const RawRecord* first = nullptr;
        for (const auto& r : pending)
            if (r.error.empty() && r.value.is_object()) {
                first = &r;
                break;
            }
        fail("cannot tell the layout of " + m_path +
             (first ? ": the record at line " + std::to_string(first->line) + " has keys " + keyList(first->value) : "") +
             "; expected " + layoutsWithKeys(allLayouts()) + "; choose the layout or map the columns");
    }

    static nlohmann::json namesObject(const std::vector<std::string>& names) {
        nlohmann::json o = nlohmann::json::object();
        for (const auto& n : names)
            o[n] = n;
        return o;
    }
    static std::vector<Layout> allLayouts() {
        return {Layout::Alpaca, Layout::ShareGpt,   Layout::OpenAiMessages, Layout::TrlPreference,
                Layout::Kto,    Layout::Verifiable, Layout::PlainText};
    }

    std::string m_path;
    const ImportOptions& m_options;
    std::optional<DatasetKind> m_kind;
    std::string m_dataset;
    Layout m_concrete = Layout::Auto;  // the converter: Native resolved to the kind's public layout
};

struct AbortImport {};  // rolls the transaction back after an all-or-nothing rejection

} // namespace

ImportPlan parseFile(const std::string& path, const ImportOptions& options) {
    ImportPlan plan;
    plan.file = path;
    RowSource source(path, options, options.kind, "");
    source.run(
        [&](Row&& row, int64_t line) {
            plan.rows.push_back(std::move(row));
            plan.rowLines.push_back(line);
        },
        [&](RejectedRecord&& r) { plan.rejections.push_back(std::move(r)); });
    plan.format = source.format;
    plan.layout = source.layout;
    plan.kind = source.kind.value_or(options.kind.value_or(DatasetKind::Instruction));
    return plan;
}

ImportReport importFile(ProjectStore& store, const std::string& datasetName, const std::string& path,
                        const ImportOptions& options) {
    ImportReport report;
    report.file = path;
    report.dataset = datasetName;
    std::optional<DatasetKind> kind = options.kind;
    const std::optional<DatasetInfo> existing = store.dataset(datasetName);
    if (existing) {
        if (options.kind && *options.kind != existing->kind)
            fail("dataset '" + datasetName + "' holds " + datasetKindName(existing->kind) + " rows, not " +
                 datasetKindName(*options.kind));
        kind = existing->kind;
        report.datasetId = existing->id;
    }

    std::vector<Row> batch;
    const auto flush = [&](DatasetKind k) {
        if (report.datasetId == 0) {
            report.datasetId = store.createDataset(datasetName, k);
            report.createdDataset = true;
        }
        if (!batch.empty())
            store.insertRows(report.datasetId, batch);
        batch.clear();
    };
    try {
        store.transaction([&] {
            RowSource source(path, options, kind, existing ? datasetName : "");
            source.run(
                [&](Row&& row, int64_t) {
                    ++report.accepted;
                    if (options.allOrNothing && report.rejected > 0)
                        return;  // nothing will be written; keep scanning for the report
                    batch.push_back(std::move(row));
                    if (batch.size() >= kInsertBatch)
                        flush(*source.kind);
                },
                [&](RejectedRecord&& r) {
                    ++report.rejected;
                    report.rejections.push_back(std::move(r));
                    if (options.allOrNothing)
                        batch.clear();
                });
            report.format = source.format;
            report.layout = source.layout;
            report.kind = source.kind.value_or(kind.value_or(DatasetKind::Instruction));
            if (options.allOrNothing && report.rejected > 0)
                throw AbortImport{};
            if (source.kind)  // unknown only when no record was readable: then there is nothing to write
                flush(*source.kind);
        });
        report.committed = true;
    } catch (const AbortImport&) {
        report.committed = false;
        if (report.createdDataset) {  // rolled back with everything else
            report.createdDataset = false;
            report.datasetId = 0;
        }
    }
    return report;
}

} // namespace ft::data
