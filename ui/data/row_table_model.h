// The Data page's table model: the rows of one dataset of the open project, filtered
// (search, tag, split, label state), read lazily in pages of kPageSize rows into a
// small LRU cache, so a million-row dataset never loads fully. Edits are written to the
// store at once through the Session (one undo step each); a refused edit leaves the
// cell as it was and reports why through Session::errorOccurred.
// Not here: widgets (data_page.h), the column/text conversions (row_columns.h).
#pragma once

#include "data/row_columns.h"

#include "data/project_store.h"

#include <QAbstractTableModel>

#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

namespace ft::ui {

class Session;

struct RowFilter {
    QString search;                            // words (prefix-matched) or an FTS5 query
    QString tag;                               // "" = any
    std::optional<ft::data::Split> split;
    ft::data::LabelState label = ft::data::LabelState::Any;

    bool isEmpty() const { return search.trimmed().isEmpty() && tag.isEmpty() && !split && label == ft::data::LabelState::Any; }
};

class RowTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    static constexpr int kPageSize = 256;
    static constexpr int kMaxPages = 8;
    enum Roles { RowIdRole = Qt::UserRole + 1, FullTextRole, NeedsSideEditorRole };

    explicit RowTableModel(Session* session, QObject* parent = nullptr);

    void setDataset(qint64 datasetId);  // 0: none
    qint64 datasetId() const { return m_datasetId; }
    ft::data::DatasetKind kind() const { return m_kind; }
    void setFilter(const RowFilter& filter);
    const RowFilter& filter() const { return m_filter; }
    // Re-counts and drops every cached page (after undo/redo, an import, another page's edit).
    void reload();

    qint64 rowIdAt(int row) const;                      // 0 when out of range
    std::optional<ft::data::Row> rowAt(int row) const;
    std::optional<ft::data::Row> rowById(qint64 id) const;  // from the cache, else the store
    Session* session() const { return m_session; }
    const RowColumn& column(int column) const { return m_columns.at(size_t(column)); }
    int columnOf(RowColumnKind kind, const std::string& field = {}) const;  // -1 when absent
    int cachedRowCount() const;  // rows held in memory now (at most kMaxPages * kPageSize)
    int rowOfId(qint64 id) const;  // among cached rows only; -1 when not cached

    // Writes `text` into `column` of row `rowId` (the side editor). False, with the
    // session's errorOccurred, when refused.
    bool setCellText(qint64 rowId, int column, const QString& text);

    // "plain words" -> "\"plain\"* \"words\"*" (each a prefix, all required); text that
    // already uses FTS5 syntax (quotes, *, AND/OR/NOT, parentheses, column:) is kept.
    static QString ftsQuery(const QString& text);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

signals:
    void countChanged(int rows);

private:
    struct Page {
        std::vector<ft::data::Row> rows;
        quint64 lastUse = 0;
    };
    const ft::data::Row* rowPtr(int row) const;
    const Page* fetchPage(int page) const;
    ft::data::RowQuery baseQuery() const;
    qint64 countRows() const;
    bool writeRow(const ft::data::Row& before, const std::function<void(ft::data::Row&)>& change,
                  const QString& what);
    void dropCache();
    void onRowsChanged(qint64 datasetId);

    Session* m_session = nullptr;
    qint64 m_datasetId = 0;
    ft::data::DatasetKind m_kind = ft::data::DatasetKind::Instruction;
    std::vector<RowColumn> m_columns;
    RowFilter m_filter;
    int m_count = 0;
    mutable std::unordered_map<int, Page> m_pages;
    mutable std::map<int, qint64> m_pageLastId;  // keyset anchors: id of each fetched page's last row
    mutable quint64 m_clock = 0;
    mutable bool m_readErrorShown = false;
    bool m_writing = false;
};

} // namespace ft::ui
