#include "data/row_columns.h"

#include "util/error.h"

namespace ft::ui {

using ft::data::DatasetKind;
using ft::data::Row;
using nlohmann::json;

namespace {

RowColumn fieldColumn(const char* key, const char* title, bool optional = false) {
    RowColumn c;
    c.kind = RowColumnKind::Field;
    c.field = key;
    c.title = QString::fromUtf8(title);
    c.optional = optional;
    return c;
}

RowColumn metaColumn(RowColumnKind kind, const char* title, int width) {
    RowColumn c;
    c.kind = kind;
    c.title = QString::fromUtf8(title);
    c.width = width;
    return c;
}

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

// "role: text" lines of a message list.
QString messageLines(const json& messages) {
    QStringList lines;
    for (const json& m : messages) {
        const std::string role = m.is_object() && m.contains("role") && m["role"].is_string()
            ? m["role"].get<std::string>() : std::string("?");
        const std::string content = m.is_object() && m.contains("content") && m["content"].is_string()
            ? m["content"].get<std::string>() : (m.is_object() && m.contains("content") ? m["content"].dump() : "");
        lines << fromStd(role) + QStringLiteral(": ") + fromStd(content);
    }
    return lines.join('\n');
}

QString valueText(const json& v) {
    if (v.is_null())
        return {};
    if (v.is_string())
        return fromStd(v.get<std::string>());
    if (v.is_boolean())
        return v.get<bool>() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.is_array())
        return messageLines(v);
    return fromStd(v.dump());
}

json parseJson(const RowColumn& column, const QString& text) {
    try {
        return json::parse(text.toStdString());
    } catch (const json::parse_error& e) {
        // nlohmann's "[json.exception.parse_error.101] parse error at line 1, ..." without its tag.
        std::string why = e.what();
        if (const size_t tag = why.find("] "); why.rfind("[json.exception", 0) == 0 && tag != std::string::npos)
            why = why.substr(tag + 2);
        ft::fail(column.title.toStdString() + " must be valid JSON: " + why +
                 (column.field == "messages"
                      ? " (expected e.g. [{\"role\": \"user\", \"content\": \"Hi\"}, "
                        "{\"role\": \"assistant\", \"content\": \"Hello\"}])"
                      : ""));
    }
}

bool isJsonField(const Row& row, const RowColumn& column) {
    if (column.json)
        return true;
    auto it = row.fields.find(column.field);
    return it != row.fields.end() && (it->is_array() || it->is_object());
}

} // namespace

std::vector<RowColumn> columnsFor(DatasetKind kind) {
    std::vector<RowColumn> cols;
    cols.push_back(metaColumn(RowColumnKind::Id, "id", 64));
    switch (kind) {
    case DatasetKind::Instruction:
        cols.push_back(fieldColumn("instruction", "instruction"));
        cols.push_back(fieldColumn("input", "input", /*optional=*/true));
        cols.push_back(fieldColumn("output", "output"));
        cols.push_back(fieldColumn("system", "system", /*optional=*/true));
        break;
    case DatasetKind::Chat: {
        RowColumn m = fieldColumn("messages", "messages");
        m.json = true;
        cols.push_back(m);
        break;
    }
    case DatasetKind::Preference:
        cols.push_back(fieldColumn("prompt", "prompt"));
        cols.push_back(fieldColumn("chosen", "chosen"));
        cols.push_back(fieldColumn("rejected", "rejected"));
        cols.push_back(metaColumn(RowColumnKind::Label, "label", 90));
        break;
    case DatasetKind::Unpaired: {
        cols.push_back(fieldColumn("prompt", "prompt"));
        cols.push_back(fieldColumn("completion", "completion"));
        RowColumn d = fieldColumn("desirable", "desirable");
        d.boolean = true;
        d.width = 80;
        cols.push_back(d);
        break;
    }
    case DatasetKind::Verifiable: {
        cols.push_back(fieldColumn("prompt", "prompt"));
        cols.push_back(fieldColumn("reference", "reference"));
        RowColumn v = fieldColumn("verifier", "verifier");
        v.width = 110;
        cols.push_back(v);
        RowColumn s = fieldColumn("verifier_settings", "verifier settings", /*optional=*/true);
        s.json = true;
        s.width = 160;
        cols.push_back(s);
        break;
    }
    case DatasetKind::Text:
        cols.push_back(fieldColumn("text", "text"));
        break;
    }
    cols.push_back(metaColumn(RowColumnKind::Split, "split", 60));
    cols.push_back(metaColumn(RowColumnKind::Tags, "tags", 110));
    cols.push_back(metaColumn(RowColumnKind::Notes, "notes", 110));
    return cols;
}

QString cellText(const Row& row, const RowColumn& column) {
    switch (column.kind) {
    case RowColumnKind::Id: return QString::number(row.id);
    case RowColumnKind::Split: return QString::fromUtf8(ft::data::splitName(row.split));
    case RowColumnKind::Notes: return fromStd(row.notes);
    case RowColumnKind::Tags: {
        QStringList tags;
        for (const std::string& t : row.tags)
            tags << fromStd(t);
        return tags.join(QStringLiteral(", "));
    }
    case RowColumnKind::Label: {
        QString s = QString::fromUtf8(ft::data::labelSourceName(row.labelSource));
        if (!row.annotator.empty())
            s += QStringLiteral(" (") + fromStd(row.annotator) + ')';
        return s;
    }
    case RowColumnKind::Field: {
        auto it = row.fields.find(column.field);
        return it == row.fields.end() ? QString() : valueText(*it);
    }
    }
    return {};
}

QString editText(const Row& row, const RowColumn& column) {
    switch (column.kind) {
    case RowColumnKind::Id: {
        // The whole row, read-only: what an export in the native layout would hold.
        json j{{"id", row.id}, {"fields", row.fields}, {"tags", row.tags}, {"notes", row.notes},
               {"split", ft::data::splitName(row.split)}, {"label_source", ft::data::labelSourceName(row.labelSource)},
               {"updated_at", row.updatedAt}};
        if (!row.annotator.empty())
            j["annotator"] = row.annotator;
        if (row.confidence)
            j["confidence"] = *row.confidence;
        return fromStd(j.dump(2));
    }
    case RowColumnKind::Label: return QString::fromUtf8(ft::data::labelSourceName(row.labelSource));
    case RowColumnKind::Field:
        if (isJsonField(row, column)) {
            auto it = row.fields.find(column.field);
            return it == row.fields.end() ? QString() : fromStd(it->dump(2));
        }
        return cellText(row, column);
    default: return cellText(row, column);
    }
}

QString summaryText(const QString& full, int maxChars) {
    QString s = full.left(maxChars + 1);
    s.replace(QStringLiteral("\r\n"), QStringLiteral(" ⏎ "));
    s.replace('\n', QStringLiteral(" ⏎ "));
    s.replace('\t', ' ');
    if (full.size() > maxChars)
        s = s.left(maxChars) + QStringLiteral("…");
    return s;
}

bool needsSideEditor(const Row& row, const RowColumn& column) {
    if (column.kind == RowColumnKind::Id)
        return true;
    if (column.kind == RowColumnKind::Field && isJsonField(row, column))
        return true;
    return cellText(row, column).contains('\n');
}

void applyEditText(Row& row, const RowColumn& column, const QString& text) {
    const std::string title = column.title.toStdString();
    switch (column.kind) {
    case RowColumnKind::Id: ft::fail("the id column cannot be edited (ids are assigned by the project)");
    case RowColumnKind::Notes: row.notes = text.toStdString(); return;
    case RowColumnKind::Tags: row.tags = parseTags(text); return;
    case RowColumnKind::Split: {
        auto s = ft::data::splitFromName(text.trimmed().toLower().toStdString());
        if (!s)
            ft::fail("split '" + text.trimmed().toStdString() + "' is not one of train, eval, test");
        row.split = *s;
        return;
    }
    case RowColumnKind::Label: {
        auto l = ft::data::labelSourceFromName(text.trimmed().toLower().toStdString());
        if (!l)
            ft::fail("label '" + text.trimmed().toStdString() + "' is not one of none, human, ai, imported");
        if (*l == row.labelSource)
            return;
        row.labelSource = *l;
        row.labeledAt = *l == ft::data::LabelSource::None ? std::string() : ft::data::nowIso8601();
        if (*l == ft::data::LabelSource::None) {
            row.annotator.clear();
            row.confidence.reset();
        }
        return;
    }
    case RowColumnKind::Field: break;
    }
    if (column.optional && text.trimmed().isEmpty()) {
        row.fields.erase(column.field);
        return;
    }
    if (column.boolean) {
        const QString t = text.trimmed().toLower();
        if (t == QStringLiteral("true") || t == QStringLiteral("yes") || t == QStringLiteral("1"))
            row.fields[column.field] = true;
        else if (t == QStringLiteral("false") || t == QStringLiteral("no") || t == QStringLiteral("0"))
            row.fields[column.field] = false;
        else
            ft::fail(title + " must be true or false (found '" + text.trimmed().toStdString() + "')");
        return;
    }
    if (isJsonField(row, column)) {
        json j = parseJson(column, text);
        if (column.field == "messages" && !j.is_array())
            ft::fail("messages must be a JSON list of {\"role\", \"content\"} objects (found " +
                     std::string(j.type_name()) + ")");
        row.fields[column.field] = std::move(j);
        return;
    }
    row.fields[column.field] = text.toStdString();
}

void applyBoolean(Row& row, const RowColumn& column, bool value) {
    if (column.kind != RowColumnKind::Field || !column.boolean)
        ft::fail(column.title.toStdString() + " is not a true/false column");
    row.fields[column.field] = value;
}

std::vector<std::string> parseTags(const QString& text) {
    std::vector<std::string> out;
    for (const QString& part : text.split(',', Qt::SkipEmptyParts)) {
        const std::string t = part.trimmed().toStdString();
        if (t.empty())
            continue;
        bool seen = false;
        for (const std::string& o : out)
            seen = seen || o == t;
        if (!seen)
            out.push_back(t);
    }
    return out;
}

Row placeholderRow(DatasetKind kind) {
    Row row;
    switch (kind) {
    case DatasetKind::Instruction:
        row.fields = {{"instruction", "New instruction"}, {"output", "New response"}};
        break;
    case DatasetKind::Chat:
        row.fields = {{"messages", json::array({{{"role", "user"}, {"content", "New message"}},
                                                {{"role", "assistant"}, {"content", "New reply"}}})}};
        break;
    case DatasetKind::Preference:
        row.fields = {{"prompt", "New prompt"}, {"chosen", "Better answer"}, {"rejected", "Worse answer"}};
        break;
    case DatasetKind::Unpaired:
        row.fields = {{"prompt", "New prompt"}, {"completion", "New completion"}, {"desirable", true}};
        break;
    case DatasetKind::Verifiable:
        row.fields = {{"prompt", "New prompt"}, {"reference", "answer"}, {"verifier", "exact_match"}};
        break;
    case DatasetKind::Text:
        row.fields = {{"text", "New text"}};
        break;
    }
    return row;
}

QStringList splitNames() { return {QStringLiteral("train"), QStringLiteral("eval"), QStringLiteral("test")}; }
QStringList labelNames() {
    return {QStringLiteral("none"), QStringLiteral("human"), QStringLiteral("ai"), QStringLiteral("imported")};
}

} // namespace ft::ui
