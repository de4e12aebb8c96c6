#include "data/row_item_delegate.h"

#include "data/row_table_model.h"

#include <QComboBox>
#include <QLineEdit>

namespace ft::ui {

namespace {

const RowColumn* columnAt(const QModelIndex& index) {
    const auto* model = qobject_cast<const RowTableModel*>(index.model());
    return model ? &model->column(index.column()) : nullptr;
}

} // namespace

RowItemDelegate::RowItemDelegate(QObject* parent) : QStyledItemDelegate(parent) {}

QWidget* RowItemDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                       const QModelIndex& index) const {
    const RowColumn* col = columnAt(index);
    if (!col)
        return QStyledItemDelegate::createEditor(parent, option, index);
    if (col->kind == RowColumnKind::Split || col->kind == RowColumnKind::Label) {
        auto* combo = new QComboBox(parent);
        combo->addItems(col->kind == RowColumnKind::Split ? splitNames() : labelNames());
        // Commit as soon as a choice is made, like a spreadsheet's drop-down.
        connect(combo, &QComboBox::activated, this, [this, combo] {
            emit const_cast<RowItemDelegate*>(this)->commitData(combo);
            emit const_cast<RowItemDelegate*>(this)->closeEditor(combo);
        });
        return combo;
    }
    if (index.data(RowTableModel::NeedsSideEditorRole).toBool()) {
        emit sideEditorRequested(index);
        return nullptr;
    }
    auto* edit = new QLineEdit(parent);
    edit->setFrame(false);
    return edit;
}

void RowItemDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
    if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        combo->setCurrentText(index.data(Qt::EditRole).toString());
        return;
    }
    if (auto* edit = qobject_cast<QLineEdit*>(editor)) {
        edit->setText(index.data(Qt::EditRole).toString());
        return;
    }
    QStyledItemDelegate::setEditorData(editor, index);
}

void RowItemDelegate::setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const {
    QString text;
    if (auto* combo = qobject_cast<QComboBox*>(editor))
        text = combo->currentText();
    else if (auto* edit = qobject_cast<QLineEdit*>(editor))
        text = edit->text();
    else
        return QStyledItemDelegate::setModelData(editor, model, index);
    if (text != index.data(Qt::EditRole).toString())
        model->setData(index, text, Qt::EditRole);
}

} // namespace ft::ui
