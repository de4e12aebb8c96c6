// The Data page's side editor: one cell of the table in full (long text, a chat's
// messages as JSON, the whole row read-only for the id column), saved with Ctrl+Return.
// It is bound to a row id and column, not a table position, so it survives reloads;
// a refused save keeps the text and the binding until it is fixed or reverted.
// Not here: writing rules (RowTableModel::setCellText / row_columns.h).
#pragma once

#include <QModelIndex>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace ft::ui {

class RowTableModel;

class RowSideEditor : public QWidget {
    Q_OBJECT
public:
    explicit RowSideEditor(RowTableModel* model, QWidget* parent = nullptr);

    // Follows the table's current cell; a pending change is saved first, and when that
    // is refused the editor stays on its cell.
    void showCell(const QModelIndex& index);
    bool save();     // false when refused (the text stays, the reason is shown)
    void revert();   // back to the stored value
    void clear();
    bool isModified() const;
    qint64 rowId() const { return m_rowId; }
    int column() const { return m_column; }
    QPlainTextEdit* editor() const { return m_edit; }

private:
    void refresh();  // re-reads the stored value unless the text was changed
    void updateState();

    RowTableModel* m_model = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_status = nullptr;
    QPlainTextEdit* m_edit = nullptr;
    QPushButton* m_save = nullptr;
    QPushButton* m_revert = nullptr;
    qint64 m_rowId = 0;
    int m_column = -1;
    QString m_error;
};

} // namespace ft::ui
