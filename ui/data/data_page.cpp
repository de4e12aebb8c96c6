// The Data page's layout, dataset choice, filters and refresh; the row and dataset
// actions, undo/redo keys and the dialogs are in data_page_actions.cpp.
#include "data/data_page.h"

#include "app/session.h"
#include "data/length_histogram.h"
#include "data/project_store.h"
#include "data/row_item_delegate.h"
#include "data/as_trained_dialog.h"
#include "data/row_side_editor.h"
#include "data/row_table_model.h"

#include <QAction>
#include <QComboBox>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace ft::ui {

using ft::data::ProjectStore;

namespace {

QFrame* separator(QWidget* parent) {
    auto* line = new QFrame(parent);
    line->setFrameShape(QFrame::VLine);
    line->setFrameShadow(QFrame::Sunken);
    return line;
}

// "1 row", "1,000,000 rows"
QString rowsText(qlonglong n) {
    return n == 1 ? DataPage::tr("1 row") : DataPage::tr("%1 rows").arg(QLocale().toString(n));
}

QPushButton* button(const QString& text, const QString& tip, QWidget* parent) {
    auto* b = new QPushButton(text, parent);
    b->setToolTip(tip);
    return b;
}

} // namespace

DataPage::DataPage(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    m_model = new RowTableModel(session, this);

    m_undo = new QAction(tr("Undo"), this);
    m_redo = new QAction(tr("Redo"), this);
    connect(m_undo, &QAction::triggered, m_session, &Session::undo);
    connect(m_redo, &QAction::triggered, m_session, &Session::redo);

    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(8, 8, 8, 8);
    outer->setSpacing(6);
    outer->addWidget(buildDatasetBar());
    outer->addWidget(buildFilterBar());
    outer->addWidget(buildActionBar());

    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("rowTable"));
    m_table->setModel(m_model);
    auto* delegate = new RowItemDelegate(m_table);
    m_table->setItemDelegate(delegate);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                             QAbstractItemView::AnyKeyPressed);
    m_table->setWordWrap(false);
    m_table->setTextElideMode(Qt::ElideRight);
    m_table->setAlternatingRowColors(true);
    m_table->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->verticalHeader()->hide();
    // Fixed row heights keep a million rows cheap: the view never measures contents.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    m_table->installEventFilter(this);

    m_sideEditor = new RowSideEditor(m_model, this);
    m_histogram = new LengthHistogram(session, this);
    auto* right = new QSplitter(Qt::Vertical, this);
    right->addWidget(m_sideEditor);
    right->addWidget(m_histogram);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    right->setChildrenCollapsible(false);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("dataSplitter"));
    split->addWidget(m_table);
    split->addWidget(right);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setSizes({900, 380});
    split->setChildrenCollapsible(false);
    outer->addWidget(split, 1);

    m_searchTimer = new QTimer(this);
    m_searchTimer->setSingleShot(true);
    m_searchTimer->setInterval(250);
    connect(m_searchTimer, &QTimer::timeout, this, &DataPage::applyFilter);
    // Row changes come in bursts (an import, a multi-row action): re-read counts and tags once.
    m_datasetTimer = new QTimer(this);
    m_datasetTimer->setSingleShot(true);
    m_datasetTimer->setInterval(50);
    connect(m_datasetTimer, &QTimer::timeout, this, [this] {
        refreshDatasets();
        refreshTags();
    });

    connect(m_session, &Session::datasetsChanged, this, &DataPage::refreshDatasets);
    connect(m_session, &Session::rowsChanged, m_datasetTimer, qOverload<>(&QTimer::start));
    connect(m_session, &Session::historyChanged, this, &DataPage::refreshHistory);
    connect(m_model, &RowTableModel::countChanged, this, &DataPage::updateCounts);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) {
                m_sideEditor->showCell(current);
                followCurrentRowInAsTrained();
            });
    connect(delegate, &RowItemDelegate::sideEditorRequested, this, [this](const QModelIndex& index) {
        m_sideEditor->showCell(index);
        m_sideEditor->editor()->setFocus();
    });
    refreshDatasets();
    refreshHistory();
}

QWidget* DataPage::buildDatasetBar() {
    auto* bar = new QWidget(this);
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    m_datasets = new QComboBox(bar);
    m_datasets->setObjectName(QStringLiteral("datasetCombo"));
    m_datasets->setMinimumWidth(280);
    m_datasets->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_datasets->setToolTip(tr("The dataset shown in the table"));
    auto* newButton = button(tr("New…"), tr("Create an empty dataset of a chosen kind"), bar);
    m_renameButton = button(tr("Rename…"), tr("Rename this dataset"), bar);
    m_deleteDatasetButton = button(tr("Delete…"), tr("Delete this dataset and all its rows (cannot be undone)"), bar);
    auto* importButton = button(tr("Import…"), tr("Import a JSONL/JSON/CSV/TSV/text file into a dataset"), bar);
    importButton->setObjectName(QStringLiteral("importButton"));
    m_exportButton = button(tr("Export…"), tr("Write this dataset (or one split) to a file"), bar);
    m_generateButton = button(tr("Generate…"),
                              tr("Make a dataset with a local model from this dataset's prompts: answers "
                                 "(distillation), or preference pairs ranked by verifiers or a judge model"),
                              bar);
    m_generateButton->setObjectName(QStringLiteral("generateButton"));
    row->addWidget(new QLabel(tr("Dataset:"), bar));
    row->addWidget(m_datasets);
    row->addWidget(newButton);
    row->addWidget(m_renameButton);
    row->addWidget(m_deleteDatasetButton);
    row->addStretch(1);
    row->addWidget(importButton);
    row->addWidget(m_exportButton);
    row->addWidget(m_generateButton);
    connect(m_datasets, &QComboBox::currentIndexChanged, this, &DataPage::onDatasetChosen);
    connect(newButton, &QPushButton::clicked, this, &DataPage::newDataset);
    connect(m_renameButton, &QPushButton::clicked, this, &DataPage::renameDataset);
    connect(m_deleteDatasetButton, &QPushButton::clicked, this, &DataPage::deleteDataset);
    connect(importButton, &QPushButton::clicked, this, &DataPage::openImportDialog);
    connect(m_exportButton, &QPushButton::clicked, this, &DataPage::openExportDialog);
    connect(m_generateButton, &QPushButton::clicked, this, &DataPage::openGenerateDialog);
    return bar;
}

QWidget* DataPage::buildFilterBar() {
    auto* bar = new QWidget(this);
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    m_search = new QLineEdit(bar);
    m_search->setObjectName(QStringLiteral("searchBox"));
    m_search->setClearButtonEnabled(true);
    m_search->setPlaceholderText(tr("Search rows (words match as prefixes; \"exact phrase\", OR, NOT work too)"));
    m_splitFilter = new QComboBox(bar);
    m_splitFilter->setObjectName(QStringLiteral("splitFilter"));
    m_splitFilter->addItem(tr("All splits"), QString());
    for (const QString& s : splitNames())
        m_splitFilter->addItem(s, s);
    m_splitFilter->setToolTip(tr("Show only rows of this split"));
    m_tagFilter = new QComboBox(bar);
    m_tagFilter->setObjectName(QStringLiteral("tagFilter"));
    m_tagFilter->setMinimumWidth(110);
    m_tagFilter->setToolTip(tr("Show only rows carrying this tag"));
    m_labelFilter = new QComboBox(bar);
    m_labelFilter->setObjectName(QStringLiteral("labelFilter"));
    m_labelFilter->addItem(tr("Any label"), int(ft::data::LabelState::Any));
    m_labelFilter->addItem(tr("Labelled"), int(ft::data::LabelState::Labelled));
    m_labelFilter->addItem(tr("Unlabelled"), int(ft::data::LabelState::Unlabelled));
    m_labelFilter->setToolTip(tr("Preference pairs: show only labelled or unlabelled ones"));
    m_countLabel = new QLabel(bar);
    m_countLabel->setObjectName(QStringLiteral("rowCountLabel"));
    m_countLabel->setMinimumWidth(130);
    m_countLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    row->addWidget(m_search, 1);
    row->addWidget(m_splitFilter);
    row->addWidget(m_tagFilter);
    row->addWidget(m_labelFilter);
    row->addWidget(m_countLabel);
    connect(m_search, &QLineEdit::textChanged, this, [this] { m_searchTimer->start(); });
    connect(m_search, &QLineEdit::returnPressed, this, &DataPage::applyFilter);
    for (QComboBox* box : {m_splitFilter, m_tagFilter, m_labelFilter})
        connect(box, &QComboBox::activated, this, &DataPage::applyFilter);
    return bar;
}

QWidget* DataPage::buildActionBar() {
    auto* bar = new QWidget(this);
    auto* row = new QHBoxLayout(bar);
    row->setContentsMargins(0, 0, 0, 0);
    auto* add = button(tr("Add row"), tr("Add a row with placeholder text to overwrite"), bar);
    add->setObjectName(QStringLiteral("addRowButton"));
    auto* duplicate = button(tr("Duplicate"), tr("Copy the selected rows (one undo step)"), bar);
    auto* remove = button(tr("Delete"), tr("Delete the selected rows (Del; one undo step)"), bar);
    auto* splitButton = new QToolButton(bar);
    splitButton->setText(tr("Set split"));
    splitButton->setToolTip(tr("Move the selected rows to the train, eval or test split"));
    splitButton->setPopupMode(QToolButton::InstantPopup);
    auto* splitMenu = new QMenu(splitButton);
    for (ft::data::Split s : {ft::data::Split::Train, ft::data::Split::Eval, ft::data::Split::Test})
        splitMenu->addAction(QString::fromUtf8(ft::data::splitName(s)), this, [this, s] { setSplitOfSelected(s); });
    splitButton->setMenu(splitMenu);
    auto* tag = button(tr("Add tag…"), tr("Add a tag to the selected rows"), bar);
    auto* asTrained = button(tr("As trained…"),
                             tr("The current row as training sees it: its tokens, which carry loss and which are "
                                "masked, where max_seq_len cuts"),
                             bar);
    asTrained->setObjectName(QStringLiteral("asTrainedButton"));
    auto* undo = new QToolButton(bar);
    undo->setObjectName(QStringLiteral("undoButton"));
    undo->setDefaultAction(m_undo);
    auto* redo = new QToolButton(bar);
    redo->setObjectName(QStringLiteral("redoButton"));
    redo->setDefaultAction(m_redo);
    m_message = new QLabel(bar);
    m_message->setObjectName(QStringLiteral("dataMessage"));
    m_message->setStyleSheet(QStringLiteral("color: #505050;"));
    for (QWidget* w : std::initializer_list<QWidget*>{add, duplicate, remove, splitButton, tag, asTrained})
        row->addWidget(w);
    row->addWidget(separator(bar));
    row->addWidget(undo);
    row->addWidget(redo);
    row->addSpacing(8);
    row->addWidget(m_message, 1);
    m_rowActionWidgets = {add, duplicate, remove, splitButton, tag, asTrained};
    connect(asTrained, &QPushButton::clicked, this, &DataPage::openAsTrained);
    connect(add, &QPushButton::clicked, this, &DataPage::addRow);
    connect(duplicate, &QPushButton::clicked, this, &DataPage::duplicateSelected);
    connect(remove, &QPushButton::clicked, this, &DataPage::deleteSelected);
    connect(tag, &QPushButton::clicked, this, &DataPage::askTag);
    return bar;
}

qint64 DataPage::currentDatasetId() const { return m_datasets->currentData().toLongLong(); }

void DataPage::selectDataset(qint64 id) {
    const int i = m_datasets->findData(id);
    if (i >= 0)
        m_datasets->setCurrentIndex(i);
}

void DataPage::refreshDatasets() {
    const qint64 keep = currentDatasetId();
    std::vector<ft::data::DatasetInfo> infos;
    if (m_session->hasProject())
        m_session->run(tr("Listing datasets"), [&](ProjectStore& s) { infos = s.datasets(); });
    {
        const QSignalBlocker block(m_datasets);
        m_datasets->clear();
        for (const auto& d : infos) {
            const QString name = QString::fromStdString(d.name);
            m_datasets->addItem(tr("%1 (%2, %3)").arg(name, QString::fromUtf8(datasetKindName(d.kind)),
                                                       rowsText(qlonglong(d.rowCount))),
                                qlonglong(d.id));
            const int i = m_datasets->count() - 1;
            m_datasets->setItemData(i, qlonglong(d.rowCount), kRowCountRole);
            m_datasets->setItemData(i, name, kNameRole);
            m_datasets->setItemData(i, int(d.kind), kKindRole);
        }
        int index = m_datasets->findData(keep);
        if (index < 0 && m_datasets->count() > 0)
            index = 0;
        m_datasets->setCurrentIndex(index);
        if (infos.empty())
            m_datasets->setPlaceholderText(m_session->hasProject() ? tr("No datasets yet: import a file or create one")
                                                                   : tr("No project open"));
    }
    const bool has = currentDatasetId() != 0;
    for (QWidget* w : m_rowActionWidgets)
        w->setEnabled(has);
    m_renameButton->setEnabled(has);
    m_deleteDatasetButton->setEnabled(has);
    m_exportButton->setEnabled(has);
    m_generateButton->setEnabled(has);
    if (currentDatasetId() != m_model->datasetId() || currentDatasetId() == 0)
        onDatasetChosen();
    else
        updateCounts();
}

void DataPage::onDatasetChosen() {
    const qint64 id = currentDatasetId();
    m_sideEditor->showCell({});  // saves a pending side edit into the dataset it belongs to
    const bool preference = m_datasets->currentData(kKindRole).toInt() == int(ft::data::DatasetKind::Preference);
    m_labelFilter->setVisible(preference);
    if (!preference)
        m_labelFilter->setCurrentIndex(0);
    {
        const QSignalBlocker block(m_tagFilter);
        m_tagFilter->clear();
        m_tagFilter->addItem(tr("All tags"), QString());
    }
    m_model->setDataset(id);
    applyFilter();
    refreshTags();
    m_histogram->setDataset(m_datasets->currentData(kNameRole).toString());
    m_fittedDataset = -1;
    fitColumns();
}

void DataPage::refreshTags() {
    const qint64 id = m_model->datasetId();
    std::vector<std::string> tags;
    if (id != 0)
        m_session->run(tr("Listing tags"), [&](ProjectStore& s) { tags = s.tags(id); });
    const QString keep = m_tagFilter->currentData().toString();
    const QSignalBlocker block(m_tagFilter);
    m_tagFilter->clear();
    m_tagFilter->addItem(tr("All tags"), QString());
    for (const std::string& t : tags)
        m_tagFilter->addItem(QString::fromStdString(t), QString::fromStdString(t));
    const int i = m_tagFilter->findData(keep);
    m_tagFilter->setCurrentIndex(i < 0 ? 0 : i);
    if (i < 0 && !keep.isEmpty())
        applyFilter();  // the tag is gone (its rows were deleted or undone)
}

void DataPage::setSearchText(const QString& text) {
    m_search->setText(text);
    m_searchTimer->stop();
    applyFilter();
}

void DataPage::applyFilter() {
    m_searchTimer->stop();
    RowFilter f;
    f.search = m_search->text();
    f.tag = m_tagFilter->currentData().toString();
    if (const QString s = m_splitFilter->currentData().toString(); !s.isEmpty())
        f.split = ft::data::splitFromName(s.toStdString());
    f.label = ft::data::LabelState(m_labelFilter->currentData().toInt());
    const RowFilter& old = m_model->filter();
    if (f.search == old.search && f.tag == old.tag && f.split == old.split && f.label == old.label)
        return updateCounts();
    m_sideEditor->showCell({});
    m_model->setFilter(f);
    updateCounts();
}

void DataPage::updateCounts() {
    const qlonglong total = m_datasets->currentData(kRowCountRole).toLongLong();
    if (m_model->datasetId() == 0)
        m_countLabel->clear();
    else if (m_model->filter().isEmpty())
        m_countLabel->setText(rowsText(m_model->rowCount()));
    else
        m_countLabel->setText(tr("%1 of %2").arg(QLocale().toString(qlonglong(m_model->rowCount())), rowsText(total)));
}

void DataPage::fitColumns() {
    if (m_model->datasetId() == m_fittedDataset || !isVisible())
        return;
    m_fittedDataset = m_model->datasetId();
    // Fixed widths for the short columns; the text fields share the rest, optional
    // ones (system, input) at a smaller weight.
    const int available = std::max(600, m_table->viewport()->width() - 4);
    int fixed = 0;
    double weights = 0;
    for (int c = 0; c < m_model->columnCount(); ++c) {
        const RowColumn& col = m_model->column(c);
        if (col.width > 0)
            fixed += col.width;
        else
            weights += col.optional ? 0.6 : 1.0;
    }
    const double unit = std::max(120.0, (available - fixed) / std::max(1.0, weights));
    for (int c = 0; c < m_model->columnCount(); ++c) {
        const RowColumn& col = m_model->column(c);
        m_table->setColumnWidth(c, col.width > 0 ? col.width : int(unit * (col.optional ? 0.6 : 1.0)));
    }
}

void DataPage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    QTimer::singleShot(0, this, &DataPage::fitColumns);  // after the layout gave the table its width
}

void DataPage::showMessage(const QString& text) { m_message->setText(text); }

} // namespace ft::ui
