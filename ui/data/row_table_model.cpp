#include "data/row_table_model.h"

#include "app/session.h"
#include "util/error.h"

#include <QColor>
#include <QRegularExpression>

#include <algorithm>

namespace ft::ui {

using ft::data::ProjectStore;
using ft::data::Row;
using ft::data::RowQuery;

RowTableModel::RowTableModel(Session* session, QObject* parent) : QAbstractTableModel(parent), m_session(session) {
    m_columns = columnsFor(m_kind);
    connect(m_session, &Session::rowsChanged, this, &RowTableModel::onRowsChanged);
    connect(m_session, &Session::projectChanged, this, [this] { setDataset(0); });
}

void RowTableModel::setDataset(qint64 datasetId) {
    beginResetModel();
    m_datasetId = 0;
    dropCache();
    if (datasetId != 0 && m_session->store()) {
        std::optional<ft::data::DatasetInfo> info;
        m_session->run(tr("Opening dataset %1").arg(datasetId),
                       [&](ProjectStore& s) { info = s.dataset(int64_t(datasetId)); });
        if (info) {
            m_datasetId = datasetId;
            m_kind = info->kind;
        }
    }
    m_columns = columnsFor(m_kind);
    m_readErrorShown = false;
    m_count = int(countRows());
    endResetModel();
    emit countChanged(m_count);
}

void RowTableModel::setFilter(const RowFilter& filter) {
    m_filter = filter;
    beginResetModel();
    dropCache();
    m_readErrorShown = false;
    m_count = int(countRows());
    endResetModel();
    emit countChanged(m_count);
}

// Keeps the view's current cell and selection where it can: rows that stay are changed
// in place, and only the tail grows or shrinks.
void RowTableModel::reload() {
    if (m_datasetId != 0 && m_session->store()) {
        std::optional<ft::data::DatasetInfo> info;
        m_session->run(tr("Reloading rows"), [&](ProjectStore& s) { info = s.dataset(int64_t(m_datasetId)); });
        if (!info || info->kind != m_kind) {
            setDataset(info ? m_datasetId : 0);
            return;
        }
    }
    dropCache();
    m_readErrorShown = false;
    const int newCount = int(countRows());
    if (newCount > m_count) {
        beginInsertRows({}, m_count, newCount - 1);
        m_count = newCount;
        endInsertRows();
    } else if (newCount < m_count) {
        beginRemoveRows({}, newCount, m_count - 1);
        m_count = newCount;
        endRemoveRows();
    }
    if (m_count > 0)
        emit dataChanged(index(0, 0), index(m_count - 1, columnCount() - 1));
    emit countChanged(m_count);
}

void RowTableModel::onRowsChanged(qint64 datasetId) {
    if (datasetId != -1 && datasetId != m_datasetId)
        return;
    // Our own one-row edit already updated the cache; it moves no row unless it made
    // the row enter or leave the filter, which changes the count.
    if (m_writing && int(countRows()) == m_count)
        return;
    reload();
}

void RowTableModel::dropCache() {
    m_pages.clear();
    m_pageLastId.clear();
}

RowQuery RowTableModel::baseQuery() const {
    RowQuery q;
    q.datasetId = m_datasetId;
    q.search = ftsQuery(m_filter.search).toStdString();
    if (!m_filter.tag.isEmpty())
        q.tag = m_filter.tag.toStdString();
    q.split = m_filter.split;
    q.label = m_filter.label;
    return q;
}

qint64 RowTableModel::countRows() const {
    if (m_datasetId == 0 || !m_session->store())
        return 0;
    qint64 n = 0;
    m_session->run(tr("Counting rows"), [&](ProjectStore& s) { n = s.count(baseQuery()); });
    return n;
}

const RowTableModel::Page* RowTableModel::fetchPage(int page) const {
    auto it = m_pages.find(page);
    if (it != m_pages.end()) {
        it->second.lastUse = ++m_clock;
        return &it->second;
    }
    ProjectStore* store = m_session->store();
    if (!store || m_datasetId == 0)
        return nullptr;
    RowQuery q = baseQuery();
    q.limit = kPageSize;
    // Keyset from the nearest page before this one whose last id is known: fast at any
    // depth for scrolling; OFFSET only covers the gap.
    auto anchor = m_pageLastId.lower_bound(page);
    if (anchor != m_pageLastId.begin()) {
        --anchor;
        q.afterId = anchor->second;
        q.offset = int64_t(page - anchor->first - 1) * kPageSize;
    } else {
        q.offset = int64_t(page) * kPageSize;
    }
    Page fetched;
    try {
        fetched.rows = store->query(q);
    } catch (const std::exception& e) {
        if (!m_readErrorShown) {
            m_readErrorShown = true;
            const std::string why = e.what();
            m_session->run(tr("Reading rows"), [&](ProjectStore&) { throw ft::Error(why); });
        }
        return nullptr;
    }
    if (!fetched.rows.empty())
        m_pageLastId[page] = fetched.rows.back().id;
    while (int(m_pages.size()) >= kMaxPages) {
        auto oldest = std::min_element(m_pages.begin(), m_pages.end(),
                                       [](const auto& a, const auto& b) { return a.second.lastUse < b.second.lastUse; });
        m_pages.erase(oldest);
    }
    fetched.lastUse = ++m_clock;
    return &(m_pages[page] = std::move(fetched));
}

const Row* RowTableModel::rowPtr(int row) const {
    if (row < 0 || row >= m_count)
        return nullptr;
    const Page* p = fetchPage(row / kPageSize);
    const size_t i = size_t(row % kPageSize);
    return p && i < p->rows.size() ? &p->rows[i] : nullptr;
}

qint64 RowTableModel::rowIdAt(int row) const {
    const Row* r = rowPtr(row);
    return r ? r->id : 0;
}

std::optional<Row> RowTableModel::rowAt(int row) const {
    const Row* r = rowPtr(row);
    return r ? std::optional<Row>(*r) : std::nullopt;
}

std::optional<Row> RowTableModel::rowById(qint64 id) const {
    const int at = rowOfId(id);
    if (at >= 0)
        return rowAt(at);
    std::optional<Row> row;
    if (m_session->store())
        m_session->run(tr("Reading row %1").arg(id), [&](ProjectStore& s) { row = s.row(id); });
    return row;
}

int RowTableModel::columnOf(RowColumnKind kind, const std::string& field) const {
    for (size_t i = 0; i < m_columns.size(); ++i)
        if (m_columns[i].kind == kind && (field.empty() || m_columns[i].field == field))
            return int(i);
    return -1;
}

int RowTableModel::cachedRowCount() const {
    int n = 0;
    for (const auto& [_, page] : m_pages)
        n += int(page.rows.size());
    return n;
}

int RowTableModel::rowOfId(qint64 id) const {
    for (const auto& [index, page] : m_pages)
        for (size_t i = 0; i < page.rows.size(); ++i)
            if (page.rows[i].id == id)
                return index * kPageSize + int(i);
    return -1;
}

QString RowTableModel::ftsQuery(const QString& text) {
    const QString t = text.trimmed();
    if (t.isEmpty())
        return {};
    static const QRegularExpression syntax(QStringLiteral(R"(["*()^:]|\b(AND|OR|NOT|NEAR)\b)"));
    if (syntax.match(t).hasMatch())
        return t;
    QStringList parts;
    for (const QString& word : t.split(QRegularExpression(QStringLiteral("\\s+")), Qt::SkipEmptyParts))
        parts << '"' + word + QStringLiteral("\"*");
    return parts.join(' ');
}

int RowTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_count; }
int RowTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_columns.size()); }

QVariant RowTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.column() >= columnCount())
        return {};
    const RowColumn& col = m_columns[size_t(index.column())];
    switch (role) {
    case Qt::TextAlignmentRole:
        if (col.kind == RowColumnKind::Id)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return col.boolean ? int(Qt::AlignCenter) : int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        return col.kind == RowColumnKind::Id ? QVariant(QColor(0x70, 0x70, 0x70)) : QVariant();
    default: break;
    }
    const Row* row = rowPtr(index.row());
    if (!row)
        return {};
    switch (role) {
    case Qt::DisplayRole:
        return col.boolean ? QVariant() : QVariant(summaryText(cellText(*row, col)));
    case Qt::EditRole: return editText(*row, col);
    case FullTextRole: return cellText(*row, col);
    case RowIdRole: return qlonglong(row->id);
    case NeedsSideEditorRole: return needsSideEditor(*row, col);
    case Qt::CheckStateRole:
        if (!col.boolean)
            return {};
        return row->fields.value(col.field, false) ? Qt::Checked : Qt::Unchecked;
    case Qt::ToolTipRole: {
        if (col.kind == RowColumnKind::Id)
            return tr("Row %1, last changed %2").arg(row->id).arg(QString::fromStdString(row->updatedAt));
        const QString full = cellText(*row, col);
        if (full.size() <= 40 && !full.contains('\n'))
            return {};
        return full.size() > 1500 ? full.left(1500) + QStringLiteral("…") : full;
    }
    default: return {};
    }
}

QVariant RowTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Horizontal && section >= 0 && section < columnCount()) {
        if (role == Qt::DisplayRole)
            return m_columns[size_t(section)].title;
        if (role == Qt::ToolTipRole) {
            const RowColumn& c = m_columns[size_t(section)];
            if (c.kind == RowColumnKind::Tags)
                return tr("Comma-separated tags");
            if (c.json)
                return tr("Edited as JSON in the side editor");
            if (c.optional)
                return tr("Optional: leave empty to remove");
        }
    } else if (orientation == Qt::Vertical && role == Qt::DisplayRole) {
        return section + 1;
    }
    return {};
}

Qt::ItemFlags RowTableModel::flags(const QModelIndex& index) const {
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    const RowColumn& col = m_columns[size_t(index.column())];
    if (col.boolean)
        f |= Qt::ItemIsUserCheckable;
    else if (col.kind != RowColumnKind::Id)
        f |= Qt::ItemIsEditable;
    return f;
}

bool RowTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    const Row* current = index.isValid() ? rowPtr(index.row()) : nullptr;
    if (!current)
        return false;
    const RowColumn col = m_columns[size_t(index.column())];
    const QString what = tr("Edit row %1 (%2)").arg(current->id).arg(col.title);
    if (role == Qt::CheckStateRole && col.boolean) {
        const bool on = value.toInt() == Qt::Checked;
        return writeRow(*current, [&](Row& r) { applyBoolean(r, col, on); }, what);
    }
    if (role != Qt::EditRole)
        return false;
    const QString text = value.toString();
    return writeRow(*current, [&](Row& r) { applyEditText(r, col, text); }, what);
}

bool RowTableModel::setCellText(qint64 rowId, int column, const QString& text) {
    if (column < 0 || column >= columnCount())
        return false;
    std::optional<Row> before;
    if (!m_session->run(tr("Reading row %1").arg(rowId), [&](ProjectStore& s) {
            before = s.row(rowId);
            if (!before)
                ft::fail("row " + std::to_string(rowId) + " no longer exists (it was deleted or undone)");
        }))
        return false;
    const RowColumn col = m_columns[size_t(column)];
    return writeRow(*before, [&](Row& r) { applyEditText(r, col, text); },
                    tr("Edit row %1 (%2)").arg(rowId).arg(col.title));
}

bool RowTableModel::writeRow(const Row& before, const std::function<void(Row&)>& change, const QString& what) {
    const Row original = before;  // `before` may point into a page that the write evicts
    Row after = original;
    bool changed = false;
    const bool ok = m_session->run(what, [&](ProjectStore& s) {
        change(after);
        if (after == original)
            return;
        s.updateRow(after);
        after = s.row(after.id).value_or(after);
        changed = true;
    });
    const int at = rowOfId(original.id);
    if (!ok || !changed) {
        if (at >= 0)  // repaint the old value over whatever an editor left
            emit dataChanged(index(at, 0), index(at, columnCount() - 1));
        return ok;
    }
    if (at >= 0) {
        Page& page = m_pages[at / kPageSize];
        page.rows[size_t(at % kPageSize)] = after;
        emit dataChanged(index(at, 0), index(at, columnCount() - 1));
    }
    m_writing = true;
    m_session->notifyRowsChanged(m_datasetId);
    m_writing = false;
    return true;
}

} // namespace ft::ui
