// How the Data page's cells are edited in place: a choice for split and label, a
// line edit for one-line text; multi-line text and JSON go to the side editor instead
// (a line edit would flatten them), which sideEditorRequested() asks the page to open.
// Not here: writing (RowTableModel::setData), the side editor itself (row_side_editor.h).
#pragma once

#include <QStyledItemDelegate>

namespace ft::ui {

class RowItemDelegate : public QStyledItemDelegate {
    Q_OBJECT
public:
    explicit RowItemDelegate(QObject* parent = nullptr);

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;

signals:
    void sideEditorRequested(const QModelIndex& index) const;
};

} // namespace ft::ui
