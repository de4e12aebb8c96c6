// The Runs page and the first-start project: sample datasets imported, runs listed
// with their metrics and duration, a run removed with its metrics.
#include "app/first_start.h"
#include "app/session.h"
#include "data/project_store.h"
#include "data/run_records.h"
#include "runs/runs_page.h"

#include "test_main.h"

#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_runs {

using namespace ft::ui;

class TestGuiRuns : public QObject {
    Q_OBJECT
private slots:
    void sampleProjectHasEveryDataset() {
        QTemporaryDir dir;
        Session session;
        QString error;
        QVERIFY2(createSampleProject(&session, dir.filePath("p.db"), &error), qPrintable(error));
        const auto datasets = session.store()->datasets();
        QCOMPARE(static_cast<int>(datasets.size()), static_cast<int>(sampleDatasets().size()) + 1);
        for (const auto& d : datasets)
            QVERIFY2(d.rowCount > 0, d.name.c_str());
        QVERIFY(session.store()->requireDataset("preferences").kind == ft::data::DatasetKind::Preference);
        const auto toLabel = session.store()->requireDataset("pairs-to-label");
        QCOMPARE(toLabel.rowCount, int64_t{40});
        ft::data::RowQuery unlabelled;
        unlabelled.datasetId = toLabel.id;
        unlabelled.label = ft::data::LabelState::Unlabelled;
        QCOMPARE(session.store()->count(unlabelled), int64_t{40});
    }

    void runsAreListedAndRemoved() {
        QTemporaryDir dir;
        Session session;
        QString error;
        QVERIFY(session.openProject(dir.filePath("p.db"), true, &error));
        auto* store = session.store();
        const int64_t a = store->createRun("lora-sft", R"({"technique":{"name":"qlora"},"objective":{"name":"dpo"}})", dir.filePath("a").toStdString());
        const int64_t b = store->createRun("second", "{}", dir.filePath("b").toStdString());
        for (int step = 1; step <= 5; ++step)
            store->addMetric(a, step, "loss", 2.0 / step);
        store->addMetric(a, 5, "eval_loss", 0.75);
        store->setRunStatus(a, "finished");
        QCOMPARE(ft::data::runMetricNames(*store, a), (std::vector<std::string>{"eval_loss", "loss"}));

        RunsPage page(&session);
        page.resize(1200, 700);
        page.refresh();
        auto* table = page.findChild<QTableWidget*>("runTable");
        QVERIFY(table);
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 2)->text(), QString("finished"));
        QCOMPARE(table->item(0, 3)->text(), QString("qlora"));
        QCOMPARE(table->item(0, 4)->text(), QString("dpo"));
        QCOMPARE(table->item(0, 7)->text(), QString("0.4000"));
        QCOMPARE(table->item(0, 8)->text(), QString("0.7500"));
        QCOMPARE(table->item(1, 3)->text(), QString("lora"));  // the engine's default

        page.selectRun(a);
        auto* plot = page.findChild<QCustomPlot*>("runPlot");
        QCOMPARE(plot->graphCount(), 2);
        QCOMPARE(plot->graph(0)->dataCount(), 5);

        QSignalSpy duplicate(&page, &RunsPage::duplicateRequested);
        QMetaObject::invokeMethod(page.findChildren<QPushButton*>().at(1), "click");
        QCOMPARE(duplicate.count(), 1);
        const QJsonObject config = duplicate.first().first().toJsonObject();
        QCOMPARE(config.value("technique").toObject().value("name").toString(), QString("qlora"));
        QVERIFY(!config.contains("output_dir"));

        ft::data::deleteRun(*store, a);
        QVERIFY(store->metric(a, "loss").empty());
        QVERIFY_THROWS_EXCEPTION(std::exception, ft::data::deleteRun(*store, a));
        session.notifyRunsChanged();
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, 0)->text().toLongLong(), b);
        if (qEnvironmentVariableIsSet("FTSTUDIO_SHOT"))
            page.grab().save(qEnvironmentVariable("FTSTUDIO_SHOT"));
    }
};

FT_TEST_MAIN_GUI(TestGuiRuns)

} // namespace test_gui_runs

#include "test_gui_runs.moc"
