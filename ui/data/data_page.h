// The Data page: pick a dataset of the open project and curate its rows in an editable
// table (lazy, smooth at a million rows) with a side editor for long cells; add,
// duplicate and delete rows, set splits and tags, search and filter, undo/redo, import
// and export through the engine, and the token lengths for the current model. Every
// edit is written at once; refused edits show the reason through Session::errorOccurred.
// Not here: the table model (row_table_model.h), the dialogs (import_dialog.h,
// export_dialog.h), the side editor (row_side_editor.h), the chart (length_histogram.h).
#pragma once

#include "data/records.h"

#include <QList>
#include <QWidget>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;
class QTimer;
class QToolButton;

namespace ft::ui {

class AsTrainedDialog;
class ExportDialog;
class GenerateDialog;
class ImportDialog;
class LengthHistogram;
class RowSideEditor;
class RowTableModel;
class Session;

class DataPage : public QWidget {
    Q_OBJECT
public:
    explicit DataPage(Session* session, QWidget* parent = nullptr);

    RowTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    RowSideEditor* sideEditor() const { return m_sideEditor; }
    LengthHistogram* lengthHistogram() const { return m_histogram; }
    // Undo/redo of row edits (Session::undo/redo), labelled with what they undo. Their
    // keys (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y) work inside the page without a window-wide
    // shortcut; they are not registered as shortcuts, so a main window's Edit > Undo
    // with the same keys is never ambiguous with them.
    QAction* undoAction() const { return m_undo; }
    QAction* redoAction() const { return m_redo; }

    qint64 currentDatasetId() const;
    void selectDataset(qint64 id);
    void setSearchText(const QString& text);  // applies at once (typing waits 250 ms)

    // Row actions on the selected rows (or the current row); each is one undo step.
    qint64 addRow();  // a placeholder row of the dataset's kind, selected; 0 on failure
    QList<qint64> duplicateSelected();
    int deleteSelected();
    int setSplitOfSelected(ft::data::Split split);
    int addTagToSelected(const QString& tag);
    QList<qint64> selectedRowIds() const;
    // The "As trained" view of the current row (opened once, then it follows the current row).
    AsTrainedDialog* openAsTrained();
    void selectRowId(qint64 id);
    // Rows another page points at (the Train page's data check): their dataset chosen,
    // the first row selected, the ids listed in the message line.
    void showRows(const QString& dataset, const QList<qint64>& ids);

    // Non-modal dialogs (open()); the page refreshes when they finish.
    ImportDialog* openImportDialog();
    ExportDialog* openExportDialog();
    GenerateDialog* openGenerateDialog();  // synthetic data from the current dataset's prompts

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void selectDatasetNamed(const QString& name);  // after a dialog made or filled it
    // Item data of the dataset combo besides the id.
    static constexpr int kRowCountRole = Qt::UserRole + 1;
    static constexpr int kNameRole = Qt::UserRole + 2;
    static constexpr int kKindRole = Qt::UserRole + 3;

    QWidget* buildDatasetBar();
    QWidget* buildFilterBar();
    QWidget* buildActionBar();
    void refreshDatasets();
    void refreshTags();
    void refreshHistory();
    void onDatasetChosen();
    void applyFilter();
    void fitColumns();
    void updateCounts();
    void showMessage(const QString& text);
    bool handleHistoryKey(QKeyEvent* event);
    void newDataset();
    void renameDataset();
    void deleteDataset();
    void askTag();

    Session* m_session = nullptr;
    RowTableModel* m_model = nullptr;
    QComboBox* m_datasets = nullptr;
    QPushButton* m_renameButton = nullptr;
    QPushButton* m_deleteDatasetButton = nullptr;
    QPushButton* m_exportButton = nullptr;
    QPushButton* m_generateButton = nullptr;
    AsTrainedDialog* m_asTrained = nullptr;
    void followCurrentRowInAsTrained();
    QLineEdit* m_search = nullptr;
    QComboBox* m_splitFilter = nullptr;
    QComboBox* m_tagFilter = nullptr;
    QComboBox* m_labelFilter = nullptr;
    QLabel* m_countLabel = nullptr;
    QLabel* m_message = nullptr;
    QTimer* m_searchTimer = nullptr;
    QTimer* m_datasetTimer = nullptr;
    QTableView* m_table = nullptr;
    RowSideEditor* m_sideEditor = nullptr;
    LengthHistogram* m_histogram = nullptr;
    QAction* m_undo = nullptr;
    QAction* m_redo = nullptr;
    QList<QWidget*> m_rowActionWidgets;  // enabled only with a dataset
    qint64 m_fittedDataset = -1;
};

} // namespace ft::ui
