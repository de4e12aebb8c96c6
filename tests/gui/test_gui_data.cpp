// The Data page against a real project file: the table shows the store's rows, edits
// (in the table and in the side editor) are saved at once and survive reopening, the
// page's Ctrl+Z / Ctrl+Shift+Z undo and redo them, rows are added/duplicated/deleted,
// search narrows the rows, a 200,000-row dataset is read lazily (a few pages in
// memory), a malformed edit is refused with a message, and an import runs through the
// dialog and the engine (FTSTUDIO_CLI, else ftstudio-cli beside the test), and an
// export of one split; token lengths when the embedded base model has been built.
#include "app/session.h"
#include "app/studio_paths.h"
#include "data/as_trained_dialog.h"
#include "data/data_page.h"
#include "data/export_dialog.h"
#include "data/generate_dialog.h"
#include "data/import_dialog.h"
#include "data/length_histogram.h"
#include "data/project_store.h"
#include "data/row_side_editor.h"
#include "data/row_table_model.h"

#include "test_main.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <qcustomplot.h>

#include <memory>

#include <nlohmann/json.hpp>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_data {

using namespace ft::ui;
using ft::data::DatasetKind;
using ft::data::ProjectStore;
using ft::data::Row;
using nlohmann::json;

namespace {

Row instructionRow(const std::string& instruction, const std::string& output, const char* tag) {
    Row r;
    r.fields = {{"instruction", instruction}, {"output", output}};
    r.tags = {tag};
    return r;
}

} // namespace

class TestGuiData : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_project;
    qint64 m_sftId = 0, m_chatId = 0, m_prefId = 0, m_bigId = 0;

    struct Open {
        std::unique_ptr<Session> session;
        std::unique_ptr<DataPage> page;
    };
    Open open() {
        Open o;
        o.session = std::make_unique<Session>();
        QString error;
        if (!o.session->openProject(m_project, false, &error))
            qFatal("cannot open the test project: %s", qPrintable(error));
        o.page = std::make_unique<DataPage>(o.session.get());
        o.page->resize(1280, 800);
        return o;
    }
    // FT_DATA_PNG=/path/x.png: saves the page as x_<what>.png to look at it.
    static void maybeSave(QWidget* page, const char* what) {
        const QString png = qEnvironmentVariable("FT_DATA_PNG");
        if (png.isEmpty())
            return;
        page->show();
        QTest::qWait(50);
        page->grab().save(QString(png).replace(QStringLiteral(".png"), QStringLiteral("_%1.png").arg(what)));
    }
    static QString cell(DataPage* page, int row, const char* field) {
        RowTableModel* m = page->model();
        return m->data(m->index(row, m->columnOf(RowColumnKind::Field, field)), Qt::EditRole).toString();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("FTSTUDIO_DATA_DIR", m_dir.filePath("data").toUtf8());
        m_project = m_dir.filePath("project.db");
        auto store = ProjectStore::create(m_project.toStdString());
        m_sftId = store->createDataset("sft", DatasetKind::Instruction);
        store->insertRows(m_sftId, {instructionRow("Add 2 and 3.", "5", "arithmetic"),
                                    instructionRow("Name the capital of France.", "Paris.", "capital"),
                                    instructionRow("What is 4 * 2?", "8", "arithmetic"),
                                    instructionRow("Name the capital of Peru.", "Lima.", "capital"),
                                    instructionRow("Spell cat.", "C-A-T", "instruction")});
        m_chatId = store->createDataset("chat", DatasetKind::Chat);
        Row chat;
        chat.fields = {{"messages", {{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "Hello!"}}}}};
        store->insertRow(m_chatId, chat);
        m_prefId = store->createDataset("pairs", DatasetKind::Preference);
        Row pair;
        pair.fields = {{"prompt", "What is 4 + 8?"}, {"chosen", "12"}, {"rejected", "11"}};
        store->insertRows(m_prefId, {pair, pair});
        // A big dataset in one transaction: short text rows.
        QElapsedTimer t;
        t.start();
        m_bigId = store->createDataset("big", DatasetKind::Text);
        std::vector<Row> rows(200000);
        for (size_t i = 0; i < rows.size(); ++i)
            rows[i].fields = {{"text", "row " + std::to_string(i)}};
        store->insertRows(m_bigId, rows);
        qInfo("inserted 200000 rows in %lld ms", (long long)t.elapsed());
    }

    void tableShowsRows() {
        Open o = open();
        DataPage* page = o.page.get();
        auto* table = page->findChild<QTableView*>(QStringLiteral("rowTable"));
        QVERIFY(table);
        QCOMPARE(page->currentDatasetId(), m_sftId);
        QCOMPARE(table->model()->rowCount(), 5);
        QCOMPARE(cell(page, 1, "instruction"), QStringLiteral("Name the capital of France."));
        QCOMPARE(cell(page, 1, "output"), QStringLiteral("Paris."));
        auto* combo = page->findChild<QComboBox*>(QStringLiteral("datasetCombo"));
        QCOMPARE(combo->currentText(), QStringLiteral("sft (instruction, 5 rows)"));
        QCOMPARE(page->model()->data(page->model()->index(0, page->model()->columnOf(RowColumnKind::Tags))).toString(),
                 QStringLiteral("arithmetic"));
    }

    void editsAreSavedAtOnce() {
        {
            Open o = open();
            RowTableModel* m = o.page->model();
            QVERIFY(m->setData(m->index(0, m->columnOf(RowColumnKind::Field, "output")), QStringLiteral("five")));
            QCOMPARE(cell(o.page.get(), 0, "output"), QStringLiteral("five"));
            // The side editor: the current cell in full, written by Save.
            o.page->show();
            QVERIFY(QTest::qWaitForWindowExposed(o.page.get()));
            const QModelIndex notes = m->index(2, m->columnOf(RowColumnKind::Notes));
            o.page->table()->setCurrentIndex(notes);
            auto* editor = o.page->findChild<QPlainTextEdit*>(QStringLiteral("cellEditor"));
            QVERIFY(editor);
            QCOMPARE(o.page->sideEditor()->rowId(), m->rowIdAt(2));
            editor->setFocus();
            QTest::keyClicks(editor, QStringLiteral("checked twice"));
            QTest::keyClick(editor, Qt::Key_Return);
            QTest::keyClicks(editor, QStringLiteral("by hand"));
            QTest::mouseClick(o.page->findChild<QPushButton*>(QStringLiteral("cellSaveButton")), Qt::LeftButton);
            QVERIFY(!o.page->sideEditor()->isModified());
            QCOMPARE(m->data(notes, Qt::EditRole).toString(), QStringLiteral("checked twice\nby hand"));
        }
        // A new session on the same file sees both edits.
        Open again = open();
        QCOMPARE(cell(again.page.get(), 0, "output"), QStringLiteral("five"));
        RowTableModel* m = again.page->model();
        QCOMPARE(m->data(m->index(2, m->columnOf(RowColumnKind::Notes)), Qt::EditRole).toString(),
                 QStringLiteral("checked twice\nby hand"));
        QCOMPARE(again.session->undoLabel(), QStringLiteral("edit row %1").arg(m->rowIdAt(2)));
    }

    void undoRedoKeys() {
        Open o = open();
        o.page->show();
        QVERIFY(QTest::qWaitForWindowExposed(o.page.get()));
        RowTableModel* m = o.page->model();
        const QModelIndex output = m->index(3, m->columnOf(RowColumnKind::Field, "output"));
        QVERIFY(m->setData(output, QStringLiteral("Lima, Peru.")));
        o.page->table()->setFocus();
        QSignalSpy history(o.session.get(), &Session::historyChanged);
        QTest::keyClick(o.page->table(), Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(m->data(output, Qt::EditRole).toString(), QStringLiteral("Lima."));
        QTest::keyClick(o.page->table(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(m->data(output, Qt::EditRole).toString(), QStringLiteral("Lima, Peru."));
        QVERIFY(history.count() >= 2);
        QVERIFY(o.page->undoAction()->isEnabled());
        QVERIFY(o.page->undoAction()->toolTip().contains(QStringLiteral("edit row")));
    }

    void addDuplicateDelete() {
        Open o = open();
        DataPage* page = o.page.get();
        RowTableModel* m = page->model();
        const int before = m->rowCount();
        const qint64 added = page->addRow();
        QVERIFY(added > 0);
        QCOMPARE(m->rowCount(), before + 1);
        QCOMPARE(page->selectedRowIds(), QList<qint64>{added});
        QCOMPARE(cell(page, before, "instruction"), QStringLiteral("New instruction"));

        page->table()->selectionModel()->select(m->index(0, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        const QList<qint64> copies = page->duplicateSelected();  // rows 0 and the new one
        QCOMPARE(copies.size(), 2);
        QCOMPARE(m->rowCount(), before + 3);
        QCOMPARE(cell(page, before + 1, "instruction"), QStringLiteral("Add 2 and 3."));

        page->table()->clearSelection();
        for (qint64 id : copies)
            page->table()->selectionModel()->select(m->index(m->rowOfId(id), 0),
                                                    QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(page->deleteSelected(), 2);
        QCOMPARE(m->rowCount(), before + 1);
        QCOMPARE(o.session->undoLabel(), QStringLiteral("delete 2 rows"));
        o.session->undo();  // one step brings both back
        QCOMPARE(m->rowCount(), before + 3);
        o.session->redo();
        QCOMPARE(m->rowCount(), before + 1);

        page->selectRowId(added);
        QCOMPARE(page->setSplitOfSelected(ft::data::Split::Eval), 1);
        QCOMPARE(page->addTagToSelected(QStringLiteral("draft")), 1);
        QCOMPARE(m->rowById(added)->split, ft::data::Split::Eval);
        QCOMPARE(m->rowById(added)->tags, (std::vector<std::string>{"draft"}));
    }

    void searchAndFilters() {
        Open o = open();
        DataPage* page = o.page.get();
        RowTableModel* m = page->model();
        const int all = m->rowCount();
        page->setSearchText(QStringLiteral("capit"));  // prefix match
        QCOMPARE(m->rowCount(), 2);
        page->setSearchText(QStringLiteral("Peru"));
        QCOMPARE(m->rowCount(), 1);
        QCOMPARE(cell(page, 0, "instruction"), QStringLiteral("Name the capital of Peru."));
        page->setSearchText(QString());
        QCOMPARE(m->rowCount(), all);
        RowFilter f;
        f.tag = QStringLiteral("arithmetic");
        m->setFilter(f);
        QCOMPARE(m->rowCount(), 2);
        f = {};
        f.split = ft::data::Split::Eval;
        m->setFilter(f);
        QCOMPARE(m->rowCount(), 1);  // the row moved to eval above
        m->setFilter({});
        page->table()->setCurrentIndex(m->index(2, m->columnOf(RowColumnKind::Notes)));
        maybeSave(page, "sft");
    }

    void millionRowTableStaysLazy() {
        Open o = open();
        DataPage* page = o.page.get();
        QElapsedTimer t;
        t.start();
        page->selectDataset(m_bigId);
        RowTableModel* m = page->model();
        QCOMPARE(m->rowCount(), 200000);
        const int textColumn = m->columnOf(RowColumnKind::Field, "text");
        QCOMPARE(m->data(m->index(199999, textColumn)).toString(), QStringLiteral("row 199999"));
        QCOMPARE(m->data(m->index(100000, textColumn)).toString(), QStringLiteral("row 100000"));
        page->show();
        QVERIFY(QTest::qWaitForWindowExposed(page));
        page->table()->scrollToBottom();
        QTest::qWait(20);
        for (int r = 0; r < 200000; r += 20011)  // jumps all over
            QCOMPARE(m->data(m->index(r, textColumn)).toString(), QStringLiteral("row %1").arg(r));
        const int cached = m->cachedRowCount();
        QVERIFY2(cached <= RowTableModel::kMaxPages * RowTableModel::kPageSize, qPrintable(QString::number(cached)));
        qInfo("200000-row dataset: opened and read in %lld ms, %d rows cached", (long long)t.elapsed(), cached);
        page->setSearchText(QStringLiteral("199999"));
        QCOMPARE(m->rowCount(), 1);
    }

    void invalidEditIsRefused() {
        Open o = open();
        DataPage* page = o.page.get();
        page->selectDataset(m_chatId);
        RowTableModel* m = page->model();
        QCOMPARE(m->rowCount(), 1);
        const QModelIndex messages = m->index(0, m->columnOf(RowColumnKind::Field, "messages"));
        QCOMPARE(m->data(messages, RowTableModel::FullTextRole).toString(), QStringLiteral("user: Hi\nassistant: Hello!"));
        const QString before = m->data(messages, Qt::EditRole).toString();
        QSignalSpy errors(o.session.get(), &Session::errorOccurred);
        QVERIFY(!m->setData(messages, QStringLiteral("[{\"role\": \"user\", \"content\": ")));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(errors.at(0).at(0).toString().contains(QStringLiteral("valid JSON")), qPrintable(errors.at(0).at(0).toString()));
        QVERIFY(!m->setData(messages, QStringLiteral("[{\"role\": \"robot\", \"content\": \"beep\"}]")));
        QCOMPARE(errors.count(), 2);
        QVERIFY2(errors.at(1).at(0).toString().contains(QStringLiteral("role")), qPrintable(errors.at(1).at(0).toString()));
        QCOMPARE(m->data(messages, Qt::EditRole).toString(), before);
        // The side editor keeps refused text so it can be fixed.
        page->table()->setCurrentIndex(messages);
        page->sideEditor()->editor()->setPlainText(QStringLiteral("not json"));
        page->sideEditor()->editor()->document()->setModified(true);
        QVERIFY(!page->sideEditor()->save());
        QCOMPARE(page->sideEditor()->editor()->toPlainText(), QStringLiteral("not json"));
        maybeSave(page, "chat_refused");
        page->sideEditor()->revert();
        QCOMPARE(page->sideEditor()->editor()->toPlainText(), before);
    }

    void preferenceLabels() {
        Open o = open();
        DataPage* page = o.page.get();
        page->selectDataset(m_prefId);
        RowTableModel* m = page->model();
        QCOMPARE(m->rowCount(), 2);
        const int label = m->columnOf(RowColumnKind::Label);
        QVERIFY(label > 0);
        QCOMPARE(m->data(m->index(0, label)).toString(), QStringLiteral("none"));
        QVERIFY(m->setData(m->index(0, label), QStringLiteral("human")));
        QVERIFY(!m->rowById(m->rowIdAt(0))->labeledAt.empty());
        RowFilter f;
        f.label = ft::data::LabelState::Labelled;
        m->setFilter(f);
        QCOMPARE(m->rowCount(), 1);
        // A pair whose answers are equal is refused by the store's rules.
        QSignalSpy errors(o.session.get(), &Session::errorOccurred);
        QVERIFY(!m->setData(m->index(0, m->columnOf(RowColumnKind::Field, "chosen")), QStringLiteral("11")));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(errors.at(0).at(0).toString().contains(QStringLiteral("identical")), qPrintable(errors.at(0).at(0).toString()));
        m->setFilter({});
        maybeSave(page, "preference");
    }

    void importThroughDialog() {
        Open o = open();
        DataPage* page = o.page.get();
        ImportDialog* dialog = page->openImportDialog();
        const QString sample = samplesDir() + QStringLiteral("/sft/instructions.jsonl");
        QVERIFY2(QFileInfo::exists(sample), "set FTSTUDIO_SOURCE_DIR to the checkout (datasets/ under it)");
        dialog->setFile(sample);
        dialog->setDatasetName(QStringLiteral("imported"));
        dialog->setTags(QStringLiteral("sample"));
        QVERIFY(dialog->start());
        QVERIFY(dialog->isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(dialog->hasFinished(), 20000);
        QVERIFY2(dialog->succeeded(), qPrintable(dialog->statusText() + "\n" + dialog->report()));
        QVERIFY2(dialog->report().contains(QStringLiteral("accepted  460")), qPrintable(dialog->report()));
        const auto info = o.session->store()->dataset("imported");
        QVERIFY(info);
        QCOMPARE(page->currentDatasetId(), info->id);
        QCOMPARE(page->model()->rowCount(), 460);
        QVERIFY(o.session->canUndo());
        maybeSave(dialog, "import_dialog");
        dialog->close();

        // Export the eval split back out through the engine.
        ExportDialog* exporter = page->openExportDialog();
        QVERIFY(exporter);
        const QString out = m_dir.filePath("eval.jsonl");
        exporter->setFile(out);
        exporter->setSplit(QStringLiteral("eval"));
        QVERIFY(exporter->start());
        QTRY_VERIFY_WITH_TIMEOUT(exporter->hasFinished(), 20000);
        QVERIFY2(exporter->succeeded(), qPrintable(exporter->statusText()));
        QFile file(out);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll().count('\n'), 60);  // the sample's eval rows
        exporter->close();

        // Token lengths with the embedded base model, when this machine has built it.
        const QString model = qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_MODEL")
                                  ? qEnvironmentVariable("HOME") + "/.local/share/ftstudio/models/ftstudio-tiny-base"
                                  : qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        if (!QFileInfo::exists(model + "/config.json"))
            return;
        o.session->setModelDir(model);
        QSignalSpy computed(page->lengthHistogram(), &LengthHistogram::computed);
        page->lengthHistogram()->compute();
        QTRY_COMPARE_WITH_TIMEOUT(computed.count(), 1, 20000);
        QVERIFY2(computed.at(0).at(0).toBool(), qPrintable(page->lengthHistogram()->summary()));
        auto* plot = page->findChild<QCustomPlot*>(QStringLiteral("lengthHistogram"));
        QVERIFY(plot && plot->plottableCount() == 1);
        QVERIFY(page->lengthHistogram()->summary().contains(QStringLiteral("460 rows")));
        page->selectRowId(page->model()->rowIdAt(2));
        maybeSave(page, "imported");
    }

    // Synthetic data from the Data page: answers with a progress bar, Cancel keeps what was
    // made and a second run goes on from there; pairs ranked by a judge model.
    void generateThroughDialog() {
        const QString model = qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        if (!QFileInfo::exists(model + "/config.json") || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no tiny base model (FTSTUDIO_TEST_MODEL) or FTSTUDIO_CLI");
        qint64 promptsId = 0;
        {
            auto store = ProjectStore::open(m_project.toStdString());
            promptsId = store->createDataset("prompts", DatasetKind::Instruction);
            std::vector<Row> rows;
            for (int i = 0; i < 400; ++i)
                rows.push_back(instructionRow("Add " + std::to_string(i % 10) + " and " + std::to_string(i / 10 % 10) + ".",
                                              std::to_string(i % 10 + i / 10 % 10), "arithmetic"));
            store->insertRows(promptsId, rows);
        }
        Open o = open();
        o.session->setModelDir(model);
        DataPage* page = o.page.get();
        page->selectDataset(promptsId);
        QCOMPARE(page->currentDatasetId(), promptsId);
        auto count = [&](const QString& name) -> qint64 {
            auto store = ProjectStore::open(m_project.toStdString());
            const auto d = store->dataset(name.toStdString());
            return d ? store->count(ft::data::RowQuery{.datasetId = d->id}) : -1;
        };
        GenerateDialog* dialog = page->openGenerateDialog();
        QVERIFY(dialog);
        QCOMPARE(dialog->target(), QString("prompts-answers"));
        dialog->setTemplate("alpaca");
        dialog->setMaxNewTokens(6);
        QSignalSpy finished(dialog, &CliTaskDialog::taskFinished);
        QVERIFY(dialog->start());
        auto* bar = dialog->findChild<QProgressBar*>("taskProgress");
        QTRY_VERIFY_WITH_TIMEOUT(bar->maximum() == 400 && bar->value() >= 3, 60000);
        dialog->reject();  // Cancel while it works
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 30000);
        QVERIFY(!dialog->succeeded());
        QVERIFY2(dialog->statusText().contains("kept"), qPrintable(dialog->statusText()));
        const qint64 made = count("prompts-answers");
        QVERIFY2(made >= 3 && made < 400, qPrintable(QString::number(made)));
        finished.clear();
        dialog->setLimit(int(made) + 2);
        QVERIFY(dialog->start());
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 60000);
        QVERIFY2(dialog->succeeded(), qPrintable(dialog->report()));
        QVERIFY2(dialog->statusText().startsWith("2 rows made") &&
                     dialog->statusText().contains(QString("(%1 already made earlier)").arg(made)),
                 qPrintable(dialog->statusText()));
        QCOMPARE(count("prompts-answers"), made + 2);
        QCOMPARE(bar->isVisible(), false);
        dialog->close();

        // Pairs ranked by a judge (the same small model) from the instruction prompts.
        page->selectDataset(m_sftId);
        dialog = page->openGenerateDialog();
        dialog->setMode("judge");
        QCOMPARE(dialog->target(), QString("sft-pairs"));
        dialog->setTemplate("alpaca");
        dialog->setMaxNewTokens(6);
        dialog->setSamples(4);
        dialog->setTemperature(1.3);
        dialog->setJudge(model);
        dialog->setThreshold(0.5);  // a 30-step base is rarely sure; 0.5 keeps every ranked pair
        QSignalSpy judged(dialog, &CliTaskDialog::taskFinished);
        QVERIFY(dialog->start());
        QTRY_VERIFY_WITH_TIMEOUT(!judged.isEmpty(), 120000);
        QVERIFY2(dialog->succeeded(), qPrintable(dialog->report()));
        QVERIFY(dialog->report().contains("--judge " + model));
        auto store = ProjectStore::open(m_project.toStdString());
        const auto pairsInfo = store->dataset("sft-pairs");
        QVERIFY(pairsInfo && pairsInfo->kind == DatasetKind::Preference);
        const auto made2 = store->query(ft::data::RowQuery{.datasetId = pairsInfo->id});
        QVERIFY2(made2.size() >= 3, qPrintable(dialog->report()));
        QVERIFY(dialog->statusText().startsWith(QString("%1 rows made in 'sft-pairs'").arg(made2.size())));
        for (const Row& r : made2) {
            QCOMPARE(r.labelSource, ft::data::LabelSource::AI);
            QVERIFY(QString::fromStdString(r.annotator).startsWith("ai:"));
            QVERIFY(r.confidence && *r.confidence >= 0.5);
            QVERIFY(r.fields["chosen"] != r.fields["rejected"]);
        }
        QTRY_COMPARE(page->currentDatasetId(), pairsInfo->id);  // the page shows what was made
        if (!qEnvironmentVariableIsEmpty("FTSTUDIO_SCREENSHOT_DIR"))
            dialog->grab().save(qEnvironmentVariable("FTSTUDIO_SCREENSHOT_DIR") + "/generate.png");
        dialog->close();
    }

    // "As trained": the current row's tokens as the engine's preview gives them, loss
    // tokens highlighted; it follows the current row and the settings.
    void asTrainedView() {
        const QString model = qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_MODEL")
                                  ? qEnvironmentVariable("HOME") + "/.local/share/ftstudio/models/ftstudio-tiny-base"
                                  : qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        if (!QFileInfo::exists(model + "/config.json") || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no tiny base model or FTSTUDIO_CLI");
        Open o = open();
        o.session->setModelDir(model);
        DataPage* page = o.page.get();
        page->selectDataset(m_sftId);
        page->selectRowId(page->model()->rowIdAt(0));
        auto* dialog = page->openAsTrained();
        QSignalSpy shown(dialog, &AsTrainedDialog::previewShown);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), 30000);
        QVERIFY(shown.first().at(0).toBool());
        const json p = dialog->preview();
        QCOMPARE(p["row"].get<qint64>(), page->model()->rowIdAt(0));
        QCOMPARE(p["format"].get<std::string>(), std::string("alpaca"));
        // The engine, run by hand on the same row, gives the same tokens and mask.
        QProcess cli;
        cli.start(ft::ui::cliPath(), {"data", "preview", "--project", m_project, "--dataset", "sft", "--row",
                                      QString::number(page->model()->rowIdAt(0)), "--model", model, "--objective", "sft",
                                      "--template", "alpaca", "--max-seq-len", "512", "--loss-on", "assistant", "--json"});
        QVERIFY(cli.waitForFinished(30000));
        QCOMPARE(json::parse(cli.readAllStandardOutput().toStdString()), p);
        // Every loss token is a bold span, every masked one a grey one.
        const QString html = dialog->html();
        int loss = 0, masked = 0;
        for (const auto& t : p["sides"][0]["tokens"])
            (t["loss"].get<bool>() ? loss : masked)++;
        QVERIFY(loss > 0 && masked > 0);
        QCOMPARE(int(html.count("color:#003300")), loss);
        QCOMPARE(int(html.count("color:#8a8a8a")), masked);
        // It follows the current row, and a shorter max_seq_len cuts it.
        shown.clear();
        page->selectRowId(page->model()->rowIdAt(1));
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), 30000);
        QCOMPARE(dialog->preview()["row"].get<qint64>(), page->model()->rowIdAt(1));
        shown.clear();
        auto* maxLen = dialog->findChild<QSpinBox*>("maxSeqLen");
        maxLen->setValue(8);
        emit maxLen->editingFinished();
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty(), 30000);
        QVERIFY(dialog->preview()["sides"][0]["dropped"].get<bool>());
        QVERIFY(dialog->html().contains("left out of training"));
        // Packing: the packed row the engine plans for it, its neighbours listed.
        maxLen->setValue(128);
        shown.clear();
        dialog->findChild<QCheckBox*>("packing")->setChecked(true);
        QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && !dialog->isRunning(), 30000);
        bool sawEval = false, sawTrain = false;
        for (int i = 0; i < page->model()->rowCount() && !sawTrain; ++i) {
            if (dialog->preview()["row"].get<qint64>() != page->model()->rowIdAt(i)) {
                shown.clear();  // the next row (one in the evaluation split is never packed)
                page->selectRowId(page->model()->rowIdAt(i));
                QTRY_VERIFY_WITH_TIMEOUT(!shown.isEmpty() && !dialog->isRunning(), 30000);
            }
            const json packed = dialog->preview();
            QVERIFY2(packed.contains("packed"), packed.dump().c_str());
            QCOMPARE(packed["packing"].get<bool>(), true);
            if (packed["packed"]["in_eval"].get<bool>()) {
                QVERIFY(dialog->html().contains("evaluation split"));
                sawEval = true;
            } else {
                QVERIFY(dialog->html().contains("(this row)"));
                QCOMPARE(int(dialog->html().count("<tr")), 1 + int(packed["packed"]["examples"].size()));
                QVERIFY(packed["packed"]["examples"].size() >= 2);  // 128 tokens hold several short rows
                sawTrain = true;
            }
        }
        QVERIFY(sawTrain);
        qInfo("packing shown for a training row%s", sawEval ? " and for one in the evaluation split" : "");
        if (!qEnvironmentVariableIsEmpty("FTSTUDIO_SCREENSHOT_DIR"))
            dialog->grab().save(qEnvironmentVariable("FTSTUDIO_SCREENSHOT_DIR") + "/as-trained.png");
        dialog->close();
    }
};

FT_TEST_MAIN_GUI(TestGuiData)

} // namespace test_gui_data

#include "test_gui_data.moc"
