// The Data page's actions: rows (add, duplicate, delete, split, tag: each one undo
// step), undo/redo and their keys, datasets (new, rename, delete) and the import/export dialogs.
#include "data/data_page.h"

#include "app/session.h"
#include "data/as_trained_dialog.h"
#include "data/export_dialog.h"
#include "data/generate_dialog.h"
#include "data/import_dialog.h"
#include "data/project_store.h"
#include "data/row_side_editor.h"
#include "data/row_table_model.h"
#include "util/error.h"

#include <QAction>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QTableView>

#include <algorithm>
#include <set>

namespace ft::ui {

using ft::data::ProjectStore;
using ft::data::Row;

QList<qint64> DataPage::selectedRowIds() const {
    std::set<int> rows;
    for (const QItemSelectionRange& range : m_table->selectionModel()->selection())
        for (int r = range.top(); r <= range.bottom(); ++r)
            rows.insert(r);
    if (rows.empty() && m_table->currentIndex().isValid())
        rows.insert(m_table->currentIndex().row());
    QList<qint64> ids;
    for (int r : rows)
        if (const qint64 id = m_model->rowIdAt(r))
            ids << id;
    return ids;
}

void DataPage::selectRowId(qint64 id) {
    int row = m_model->rowOfId(id);
    if (row < 0 && m_model->rowCount() > 0 && m_model->rowIdAt(m_model->rowCount() - 1) == id)
        row = m_model->rowCount() - 1;  // new rows sort last
    if (row < 0)
        return;
    const int column = m_model->columnCount() > 1 ? 1 : 0;
    const QModelIndex index = m_model->index(row, column);
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(index);
}

qint64 DataPage::addRow() {
    const qint64 datasetId = m_model->datasetId();
    if (datasetId == 0)
        return 0;
    Row row = placeholderRow(m_model->kind());
    // Keep the new row inside the split and tag being looked at.
    if (m_model->filter().split)
        row.split = *m_model->filter().split;
    if (!m_model->filter().tag.isEmpty())
        row.tags.push_back(m_model->filter().tag.toStdString());
    qint64 id = 0;
    if (!m_session->run(tr("Add row"), [&](ProjectStore& s) { id = s.insertRow(datasetId, row); }))
        return 0;
    m_session->notifyRowsChanged(datasetId);
    if (m_model->rowIdAt(m_model->rowCount() - 1) != id) {
        // A search or label filter hides the placeholder row: show everything.
        m_search->clear();
        m_labelFilter->setCurrentIndex(0);
        applyFilter();
    }
    selectRowId(id);
    m_table->setFocus();
    showMessage(tr("Added row %1: overwrite its placeholder text.").arg(id));
    return id;
}

QList<qint64> DataPage::duplicateSelected() {
    const QList<qint64> ids = selectedRowIds();
    const qint64 datasetId = m_model->datasetId();
    if (ids.isEmpty() || datasetId == 0)
        return {};
    std::vector<int64_t> created;
    const bool ok = m_session->run(tr("Duplicate rows"), [&](ProjectStore& s) {
        std::vector<Row> copies;
        for (qint64 id : ids)
            if (std::optional<Row> r = s.row(id)) {
                r->id = 0;
                copies.push_back(*r);
            }
        created = s.insertRows(datasetId, copies);
    });
    if (!ok)
        return {};
    m_session->notifyRowsChanged(datasetId);
    QList<qint64> out(created.begin(), created.end());
    if (!out.isEmpty())
        selectRowId(out.front());
    showMessage(tr("Duplicated %n row(s).", nullptr, int(out.size())));
    return out;
}

int DataPage::deleteSelected() {
    const QList<qint64> ids = selectedRowIds();
    const qint64 datasetId = m_model->datasetId();
    if (ids.isEmpty() || datasetId == 0)
        return 0;
    const int at = m_table->currentIndex().row();
    const std::vector<int64_t> doomed(ids.begin(), ids.end());
    m_sideEditor->clear();
    if (!m_session->run(tr("Delete rows"), [&](ProjectStore& s) { s.deleteRows(doomed); }))
        return 0;
    m_session->notifyRowsChanged(datasetId);
    m_table->clearSelection();
    if (m_model->rowCount() > 0 && at >= 0) {
        const QModelIndex next = m_model->index(std::min(at, m_model->rowCount() - 1), std::max(0, m_table->currentIndex().column()));
        m_table->selectionModel()->setCurrentIndex(next, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    }
    showMessage(tr("Deleted %n row(s); Undo (Ctrl+Z) brings them back.", nullptr, int(ids.size())));
    return int(ids.size());
}

int DataPage::setSplitOfSelected(ft::data::Split split) {
    const QList<qint64> ids = selectedRowIds();
    if (ids.isEmpty())
        return 0;
    int changed = 0;
    const bool ok = m_session->run(tr("Set split"), [&](ProjectStore& s) {
        s.transaction([&] {
            for (qint64 id : ids)
                if (std::optional<Row> r = s.row(id); r && r->split != split) {
                    r->split = split;
                    s.updateRow(*r);
                    ++changed;
                }
        });
    });
    if (!ok)
        return 0;
    if (changed > 0)
        m_session->notifyRowsChanged(m_model->datasetId());
    showMessage(tr("Moved %n row(s) to %1.", nullptr, changed).arg(QString::fromUtf8(ft::data::splitName(split))));
    return changed;
}

int DataPage::addTagToSelected(const QString& tag) {
    const QList<qint64> ids = selectedRowIds();
    const std::string t = tag.trimmed().toStdString();
    if (ids.isEmpty())
        return 0;
    int changed = 0;
    const bool ok = m_session->run(tr("Add tag"), [&](ProjectStore& s) {
        if (t.empty())
            ft::fail("a tag cannot be empty; type a word such as 'reviewed'");
        if (tag.contains(','))
            ft::fail("tag '" + t + "' contains a comma; add one tag at a time");
        s.transaction([&] {
            for (qint64 id : ids)
                if (std::optional<Row> r = s.row(id); r && std::find(r->tags.begin(), r->tags.end(), t) == r->tags.end()) {
                    r->tags.push_back(t);
                    s.updateRow(*r);
                    ++changed;
                }
        });
    });
    if (!ok)
        return 0;
    if (changed > 0)
        m_session->notifyRowsChanged(m_model->datasetId());
    showMessage(tr("Tagged %n row(s) '%1'.", nullptr, changed).arg(QString::fromStdString(t)));
    return changed;
}

void DataPage::askTag() {
    if (selectedRowIds().isEmpty())
        return showMessage(tr("Select the rows to tag first."));
    bool ok = false;
    const QString tag = QInputDialog::getText(this, tr("Add tag"), tr("Tag for the selected rows:"), QLineEdit::Normal,
                                              QString(), &ok);
    if (ok)
        addTagToSelected(tag);
}

void DataPage::newDataset() {
    QDialog dialog(this);
    dialog.setWindowTitle(tr("New dataset"));
    auto* form = new QFormLayout(&dialog);
    auto* name = new QLineEdit(&dialog);
    auto* kind = new QComboBox(&dialog);
    for (const char* k : {"instruction", "chat", "preference", "unpaired", "verifiable", "text"})
        kind->addItem(QString::fromUtf8(k));
    kind->setToolTip(tr("instruction: SFT pairs · chat: conversations · preference: chosen/rejected pairs (DPO, "
                        "reward models) · unpaired: KTO · verifiable: prompts with checkable answers (RLVR) · text: "
                        "plain text"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    form->addRow(tr("Name"), name);
    form->addRow(tr("Kind"), kind);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    qint64 id = 0;
    const auto k = ft::data::datasetKindFromName(kind->currentText().toStdString());
    if (!m_session->run(tr("New dataset"), [&](ProjectStore& s) {
            if (name->text().trimmed().isEmpty())
                ft::fail("a dataset needs a name");
            id = s.createDataset(name->text().trimmed().toStdString(), k.value_or(ft::data::DatasetKind::Instruction));
        }))
        return;
    m_session->notifyDatasetsChanged();
    selectDataset(id);
    showMessage(tr("Created dataset '%1': add rows or import a file.").arg(name->text().trimmed()));
}

void DataPage::renameDataset() {
    const qint64 id = currentDatasetId();
    const QString old = m_datasets->currentData(kNameRole).toString();
    if (id == 0)
        return;
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Rename dataset"), tr("New name for '%1':").arg(old),
                                               QLineEdit::Normal, old, &ok).trimmed();
    if (!ok || name == old)
        return;
    if (m_session->run(tr("Rename dataset"), [&](ProjectStore& s) { s.renameDataset(id, name.toStdString()); }))
        m_session->notifyDatasetsChanged();
}

void DataPage::deleteDataset() {
    const qint64 id = currentDatasetId();
    if (id == 0)
        return;
    const QString name = m_datasets->currentData(kNameRole).toString();
    const auto answer = QMessageBox::warning(
        this, tr("Delete dataset"),
        tr("Delete dataset '%1' and its %n row(s)? This cannot be undone; export it first to keep a copy.", nullptr,
           m_datasets->currentData(kRowCountRole).toInt())
            .arg(name),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Yes)
        return;
    m_sideEditor->clear();
    if (m_session->run(tr("Delete dataset"), [&](ProjectStore& s) { s.deleteDataset(id); })) {
        m_session->notifyDatasetsChanged();
        m_session->notifyRowsChanged(-1);  // its edit history went with it
        showMessage(tr("Deleted dataset '%1'.").arg(name));
    }
}

void DataPage::refreshHistory() {
    const QString undoWhat = m_session->undoLabel();
    const QString redoWhat = m_session->redoLabel();
    m_undo->setEnabled(m_session->canUndo());
    m_redo->setEnabled(m_session->canRedo());
    m_undo->setToolTip(m_session->canUndo() ? tr("Undo %1 (Ctrl+Z)").arg(undoWhat) : tr("Nothing to undo"));
    m_redo->setToolTip(m_session->canRedo() ? tr("Redo %1 (Ctrl+Shift+Z)").arg(redoWhat) : tr("Nothing to redo"));
}

bool DataPage::handleHistoryKey(QKeyEvent* event) {
    const bool redo = event->matches(QKeySequence::Redo) ||
                      event->keyCombination() == QKeyCombination(Qt::ControlModifier | Qt::ShiftModifier, Qt::Key_Z);
    if (redo) {
        m_session->redo();
        return true;
    }
    if (event->matches(QKeySequence::Undo)) {
        m_session->undo();
        return true;
    }
    return false;
}

bool DataPage::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_table && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (handleHistoryKey(key))
            return true;
        if (key->key() == Qt::Key_Delete && key->modifiers() == Qt::NoModifier) {
            deleteSelected();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void DataPage::keyPressEvent(QKeyEvent* event) {
    if (!handleHistoryKey(event))
        QWidget::keyPressEvent(event);
}

void DataPage::selectDatasetNamed(const QString& name) {
    std::optional<ft::data::DatasetInfo> info;
    m_session->run(tr("Opening dataset"), [&](ProjectStore& s) { info = s.dataset(name.toStdString()); });
    if (info)
        selectDataset(info->id);
}

ImportDialog* DataPage::openImportDialog() {
    auto* dialog = new ImportDialog(m_session, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ImportDialog::imported, this, [this](const QString& name) {
        selectDatasetNamed(name);
        showMessage(tr("Imported into '%1'.").arg(name));
    });
    dialog->open();
    return dialog;
}

void DataPage::showRows(const QString& dataset, const QList<qint64>& ids) {
    qint64 datasetId = 0;
    m_session->run(tr("Find the dataset"), [&](ft::data::ProjectStore& s) {
        if (const auto d = s.dataset(dataset.toStdString()))
            datasetId = d->id;
    });
    if (datasetId == 0 || ids.isEmpty()) {
        showMessage(tr("No dataset named %1 in this project.").arg(dataset));
        return;
    }
    selectDataset(datasetId);
    selectRowId(ids.first());
    QStringList shown;
    for (qint64 id : ids.mid(0, 20))
        shown << QString::number(id);
    showMessage(tr("%n row(s) from the data check: %1%2", nullptr, int(ids.size()))
                    .arg(shown.join(QStringLiteral(", ")), ids.size() > 20 ? QStringLiteral(", …") : QString()));
}

AsTrainedDialog* DataPage::openAsTrained() {
    if (!m_asTrained)
        m_asTrained = new AsTrainedDialog(m_session, this);
    followCurrentRowInAsTrained();
    m_asTrained->show();
    m_asTrained->raise();
    return m_asTrained;
}

void DataPage::followCurrentRowInAsTrained() {
    if (!m_asTrained)
        return;
    const QString name = m_datasets->currentData(kNameRole).toString();
    const qint64 rowId = m_model->rowIdAt(m_table->currentIndex().isValid() ? m_table->currentIndex().row() : 0);
    if (name.isEmpty() || rowId <= 0)
        return;
    const auto kind = ft::data::DatasetKind(m_datasets->currentData(kKindRole).toInt());
    m_asTrained->setRow(name, QString::fromUtf8(ft::data::datasetKindName(kind)), rowId);
}

ExportDialog* DataPage::openExportDialog() {
    const QString name = m_datasets->currentData(kNameRole).toString();
    if (name.isEmpty())
        return nullptr;
    auto* dialog = new ExportDialog(m_session, name, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if (const auto split = m_model->filter().split)
        dialog->setSplit(QString::fromUtf8(ft::data::splitName(*split)));
    dialog->open();
    return dialog;
}

GenerateDialog* DataPage::openGenerateDialog() {
    const QString name = m_datasets->currentData(kNameRole).toString();
    if (name.isEmpty())
        return nullptr;
    const auto kind = ft::data::DatasetKind(m_datasets->currentData(kKindRole).toInt());
    auto* dialog = new GenerateDialog(m_session, name, QString::fromUtf8(ft::data::datasetKindName(kind)), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &GenerateDialog::generated, this, [this](const QString& target) {
        selectDatasetNamed(target);
        showMessage(tr("Generated into '%1'.").arg(target));
    });
    dialog->open();
    return dialog;
}

} // namespace ft::ui
