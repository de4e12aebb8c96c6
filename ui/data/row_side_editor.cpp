#include "data/row_side_editor.h"

#include "app/session.h"
#include "data/row_table_model.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QShortcut>
#include <QVBoxLayout>

namespace ft::ui {

RowSideEditor::RowSideEditor(RowTableModel* model, QWidget* parent) : QWidget(parent), m_model(model) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_title = new QLabel(tr("No cell selected"), this);
    m_title->setObjectName(QStringLiteral("cellEditorTitle"));
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    m_edit = new QPlainTextEdit(this);
    m_edit->setObjectName(QStringLiteral("cellEditor"));
    m_edit->setPlaceholderText(tr("Select a cell to see and edit it in full"));
    m_edit->setTabChangesFocus(false);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("cellEditorStatus"));
    m_status->setWordWrap(true);
    m_save = new QPushButton(tr("Save"), this);
    m_save->setObjectName(QStringLiteral("cellSaveButton"));
    m_save->setToolTip(tr("Write this text into the cell (Ctrl+Return)"));
    m_revert = new QPushButton(tr("Revert"), this);
    m_revert->setToolTip(tr("Discard the changes made here and show the stored value"));
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(m_revert);
    buttons->addWidget(m_save);
    layout->addWidget(m_title);
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_status);
    layout->addLayout(buttons);

    auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    shortcut->setContext(Qt::WidgetWithChildrenShortcut);
    connect(shortcut, &QShortcut::activated, this, &RowSideEditor::save);
    auto* enter = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this);
    enter->setContext(Qt::WidgetWithChildrenShortcut);
    connect(enter, &QShortcut::activated, this, &RowSideEditor::save);
    connect(m_save, &QPushButton::clicked, this, &RowSideEditor::save);
    connect(m_revert, &QPushButton::clicked, this, &RowSideEditor::revert);
    connect(m_edit->document(), &QTextDocument::modificationChanged, this, [this] { updateState(); });

    // The stored value may change under us (undo, another page): show it unless edited here.
    connect(m_model, &QAbstractItemModel::dataChanged, this, &RowSideEditor::refresh);
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        if (m_model->datasetId() == 0)
            clear();
        else
            refresh();
    });
    updateState();
}

bool RowSideEditor::isModified() const { return m_edit->document()->isModified(); }

void RowSideEditor::showCell(const QModelIndex& index) {
    const qint64 id = index.isValid() ? index.data(RowTableModel::RowIdRole).toLongLong() : 0;
    if (id == m_rowId && index.column() == m_column)
        return;
    if (isModified() && !save())
        return;
    if (id == 0) {
        clear();
        return;
    }
    m_rowId = id;
    m_column = index.column();
    m_error.clear();
    m_edit->setPlainText(index.data(Qt::EditRole).toString());
    m_edit->document()->setModified(false);
    updateState();
}

bool RowSideEditor::save() {
    if (m_rowId == 0 || m_column < 0 || !isModified())
        return true;
    QString error;
    const auto capture = connect(m_model->session(), &Session::errorOccurred, this,
                                 [&error](const QString& message) { error = message; });
    const bool ok = m_model->setCellText(m_rowId, m_column, m_edit->toPlainText());
    disconnect(capture);
    m_error = ok ? QString() : error;
    if (ok) {
        m_edit->document()->setModified(false);
        refresh();
    }
    updateState();
    return ok;
}

void RowSideEditor::revert() {
    m_edit->document()->setModified(false);
    m_error.clear();
    refresh();
}

void RowSideEditor::clear() {
    m_rowId = 0;
    m_column = -1;
    m_error.clear();
    m_edit->clear();
    m_edit->document()->setModified(false);
    updateState();
}

void RowSideEditor::refresh() {
    if (m_rowId == 0 || isModified())
        return;
    const std::optional<ft::data::Row> row = m_model->rowById(m_rowId);
    if (!row || m_column >= m_model->columnCount()) {
        clear();
        return;
    }
    const QString text = editText(*row, m_model->column(m_column));
    if (text != m_edit->toPlainText()) {
        const int cursor = m_edit->textCursor().position();
        m_edit->setPlainText(text);
        QTextCursor c = m_edit->textCursor();
        c.setPosition(std::min(cursor, int(text.size())));
        m_edit->setTextCursor(c);
    }
    m_edit->document()->setModified(false);
    updateState();
}

void RowSideEditor::updateState() {
    const bool bound = m_rowId != 0 && m_column >= 0 && m_column < m_model->columnCount();
    const RowColumn* col = bound ? &m_model->column(m_column) : nullptr;
    const bool readOnly = !col || col->kind == RowColumnKind::Id;
    m_edit->setReadOnly(readOnly);
    const bool json = col && (col->json || col->kind == RowColumnKind::Id ||
                              m_edit->toPlainText().startsWith('[') || m_edit->toPlainText().startsWith('{'));
    m_edit->setFont(json ? QFontDatabase::systemFont(QFontDatabase::FixedFont) : QFont());
    if (!col) {
        m_title->setText(tr("No cell selected"));
    } else {
        QString title = tr("Row %1 · %2").arg(m_rowId).arg(col->kind == RowColumnKind::Id ? tr("whole row") : col->title);
        if (isModified())
            title += QStringLiteral(" *");
        m_title->setText(title);
    }
    m_save->setEnabled(bound && !readOnly && isModified());
    m_revert->setEnabled(bound && isModified());
    if (!m_error.isEmpty())
        m_status->setText(QStringLiteral("<span style='color:#a01010'>%1</span>").arg(tr("Not saved: %1").arg(m_error.toHtmlEscaped())));
    else if (!col)
        m_status->clear();
    else if (readOnly)
        m_status->setText(tr("Read-only: the whole row as stored"));
    else if (col->json)
        m_status->setText(tr("JSON · Ctrl+Return saves"));
    else
        m_status->setText(tr("Ctrl+Return saves"));
}

} // namespace ft::ui
