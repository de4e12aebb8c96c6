// The Label page end to end through its keys: 1 / 2 / T store the decision at once
// (chosen/rejected as the person preferred, whatever side the page showed them on),
// S writes nothing, Ctrl+Z takes the last decision back in the project and returns to
// the row, and the agreement counter compares people with the judge's AI labels.
// With the embedded tiny model present, one generated pair is labelled too.
#include "app/session.h"
#include "app/studio_paths.h"
#include "data/project_store.h"
#include "label/label_page.h"

#include "test_main.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QProgressBar>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBrowser>

#include <memory>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_label {

using ft::data::LabelSource;
using ft::data::ProjectStore;
using ft::data::Row;
using ft::ui::LabelPage;
using ft::ui::Session;

class TestGuiLabel : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_tinyModel;  // the embedded base model, when `ftstudio-cli make-base` has built it
    int m_projects = 0;

    // A project with dataset "prefs": prompts p1..p6, chosen "good i", rejected "bad i";
    // rows whose index is in `aiRows` carry an AI label (chosen "good i", confidence 0.8).
    QString makeProject(std::initializer_list<int> aiRows) {
        const QString path = m_tmp.filePath(QStringLiteral("p%1.db").arg(++m_projects));
        auto store = ProjectStore::create(path.toStdString());
        const int64_t ds = store->createDataset("prefs", ft::data::DatasetKind::Preference);
        store->createDataset("notes", ft::data::DatasetKind::Text);
        std::vector<Row> rows;
        for (int i = 1; i <= 6; ++i) {
            Row r;
            r.fields = {{"prompt", "Question " + std::to_string(i) + "?"},
                        {"chosen", "good " + std::to_string(i)},
                        {"rejected", "bad " + std::to_string(i)}};
            for (int a : aiRows)
                if (a == i) {
                    r.labelSource = LabelSource::AI;
                    r.annotator = "ai:judge";
                    r.confidence = 0.8;
                    r.labeledAt = ft::data::nowIso8601();
                }
            rows.push_back(r);
        }
        store->insertRows(ds, rows);
        return path;
    }

    static Row storedRow(const QString& path, int64_t id) {
        auto store = ProjectStore::open(path.toStdString());
        auto row = store->row(id);
        if (!row)
            qFatal("row %lld is missing", static_cast<long long>(id));
        return *row;
    }

    static QString shown(LabelPage& page, const char* side) {
        return page.findChild<QTextBrowser*>(side)->toPlainText();
    }

    static void press(LabelPage& page, int key, Qt::KeyboardModifiers mods = Qt::NoModifier) {
        QTest::keyClick(&page, Qt::Key(key), mods);
        QCoreApplication::processEvents();
    }

    static void showPage(LabelPage& page) {
        page.resize(1280, 800);
        page.show();
        QApplication::setActiveWindow(&page);
        QVERIFY(QTest::qWaitForWindowActive(&page));
        page.setFocus();
        QTRY_VERIFY(page.hasFocus());
    }

private slots:
    void initTestCase() {
        QVERIFY(m_tmp.isValid());
        // CTest builds one (FTSTUDIO_TEST_MODEL); else the user's, read before the data folder moves to m_tmp.
        m_tinyModel = qEnvironmentVariableIsEmpty("FTSTUDIO_TEST_MODEL") ? ft::ui::defaultBaseModelDir()
                                                                        : qEnvironmentVariable("FTSTUDIO_TEST_MODEL");
        qputenv("FTSTUDIO_DATA_DIR", m_tmp.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_tmp.filePath("config").toUtf8());
        QCoreApplication::setOrganizationName("ftstudio-test");
        QCoreApplication::setApplicationName("test_gui_label");
    }

    void orderIsSeededAndMixed() {
        int swapped = 0;
        for (qint64 id = 1; id <= 40; ++id)
            swapped += LabelPage::sideSwapped(id) ? 1 : 0;
        QVERIFY2(swapped > 8 && swapped < 32, qPrintable(QString("%1 of 40 rows swapped").arg(swapped)));
        // Seeded: a row's sides are the low bit of splitmix64(20240607 ^ id), written out
        // here from the published algorithm and with the seed typed, not read from the page,
        // so they are the same in every session and every release (a person who reopens a
        // half-labelled dataset sees each pair as before).
        auto splitmix = [](quint64 x) {
            quint64 z = x + 0x9E3779B97F4A7C15ull;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            return z ^ (z >> 31);
        };
        constexpr quint64 kSeed = 20240607;
        for (qint64 id = 1; id <= 40; ++id)
            QCOMPARE(LabelPage::sideSwapped(id), bool(splitmix(kSeed ^ quint64(id)) & 1));
    }

    void keysStoreDecisions() {
        const QString path = makeProject({});
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        LabelPage page(&session);
        showPage(page);
        auto* datasets = page.findChild<QComboBox*>("datasetCombo");
        QCOMPARE(datasets->count(), 1);  // the text dataset is not offered
        page.findChild<QLineEdit*>("annotator")->setText("alice");
        page.setFocus();

        // Row 1: "1" = A better. The preferred text is whatever the page showed as A.
        QCOMPARE(page.currentRowId(), qint64(1));
        QCOMPARE(page.findChild<QTextBrowser*>("promptView")->toPlainText(), QString("Question 1?"));
        const QString a1 = shown(page, "responseA"), b1 = shown(page, "responseB");
        QCOMPARE(a1, page.aShowsChosen() ? QString("good 1") : QString("bad 1"));
        press(page, Qt::Key_1);
        Row r1 = storedRow(path, 1);
        QCOMPARE(QString::fromStdString(r1.fields["chosen"].get<std::string>()), a1);
        QCOMPARE(QString::fromStdString(r1.fields["rejected"].get<std::string>()), b1);
        QCOMPARE(r1.labelSource, LabelSource::Human);
        QCOMPARE(r1.annotator, std::string("alice"));
        QCOMPARE(r1.confidence.value_or(-1), 1.0);
        QVERIFY(!r1.labeledAt.empty());

        // Row 2: "2" = B better.
        QCOMPARE(page.currentRowId(), qint64(2));
        const QString a2 = shown(page, "responseA"), b2 = shown(page, "responseB");
        press(page, Qt::Key_2);
        Row r2 = storedRow(path, 2);
        QCOMPARE(QString::fromStdString(r2.fields["chosen"].get<std::string>()), b2);
        QCOMPARE(QString::fromStdString(r2.fields["rejected"].get<std::string>()), a2);
        QCOMPARE(r2.labelSource, LabelSource::Human);

        // Row 3: "T" = tie: the pair is kept, confidence 0.5, tag "tie".
        QCOMPARE(page.currentRowId(), qint64(3));
        press(page, Qt::Key_T);
        Row r3 = storedRow(path, 3);
        QCOMPARE(r3.fields["chosen"].get<std::string>(), std::string("good 3"));
        QCOMPARE(r3.labelSource, LabelSource::Human);
        QCOMPARE(r3.confidence.value_or(-1), 0.5);
        QCOMPARE(r3.tags, std::vector<std::string>{"tie"});

        // Row 4: "S" skips and writes nothing.
        QCOMPARE(page.currentRowId(), qint64(4));
        const Row r4Before = storedRow(path, 4);
        press(page, Qt::Key_S);
        QCOMPARE(storedRow(path, 4), r4Before);
        QCOMPARE(page.currentRowId(), qint64(5));
        auto* progress = page.findChild<QLabel*>("progressLabel");
        QVERIFY2(progress->text().contains("Labelled by people: 3 / 6"), qPrintable(progress->text()));

        // Ctrl+Z takes the tie back in the project and returns to row 3, same sides.
        press(page, Qt::Key_Z, Qt::ControlModifier);
        Row r3Undone = storedRow(path, 3);
        QCOMPARE(r3Undone.labelSource, LabelSource::None);
        QVERIFY(r3Undone.tags.empty());
        QVERIFY(!r3Undone.confidence);
        QCOMPARE(page.currentRowId(), qint64(3));
        QVERIFY2(progress->text().contains("Labelled by people: 2 / 6"), qPrintable(progress->text()));
        // A second Ctrl+Z undoes row 2; rows 1 stays.
        press(page, Qt::Key_Z, Qt::ControlModifier);
        QCOMPARE(storedRow(path, 2).labelSource, LabelSource::None);
        QCOMPARE(storedRow(path, 1).labelSource, LabelSource::Human);
        QCOMPARE(page.currentRowId(), qint64(2));
        QCOMPARE(shown(page, "responseA"), a2);  // the side order is remembered

        // Typing in the annotator field does not label anything.
        auto* annotator = page.findChild<QLineEdit*>("annotator");
        annotator->setFocus();
        QTest::keyClicks(annotator, "12ts");
        QCOMPARE(annotator->text(), QString("alice12ts"));
        QCOMPARE(storedRow(path, 2).labelSource, LabelSource::None);
        QCOMPARE(page.currentRowId(), qint64(2));
    }

    void agreementWithAiLabels() {
        const QString path = makeProject({5, 6});
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        LabelPage page(&session);
        showPage(page);
        page.setFilter(LabelPage::Filter::AiToReview);
        page.setFocus();
        QCOMPARE(page.currentRowId(), qint64(5));
        // Row 5: the person keeps the judge's chosen ("good 5") -> agreement.
        press(page, shown(page, "responseA") == "good 5" ? Qt::Key_1 : Qt::Key_2);
        QCOMPARE(storedRow(path, 5).fields["chosen"].get<std::string>(), std::string("good 5"));
        // Row 6: the person prefers "bad 6" -> disagreement, and the pair is flipped.
        QCOMPARE(page.currentRowId(), qint64(6));
        press(page, shown(page, "responseA") == "bad 6" ? Qt::Key_1 : Qt::Key_2);
        const Row r6 = storedRow(path, 6);
        QCOMPARE(r6.fields["chosen"].get<std::string>(), std::string("bad 6"));
        QCOMPARE(r6.fields["rejected"].get<std::string>(), std::string("good 6"));
        QCOMPARE(r6.labelSource, LabelSource::Human);
        QCOMPARE(page.reviewedAiRows(), 2);
        QCOMPARE(page.agreementsWithAi(), 1);
        auto* progress = page.findChild<QLabel*>("progressLabel");
        QVERIFY2(progress->text().contains("Agreement with AI: 1 / 2 (50%)"), qPrintable(progress->text()));
        QVERIFY2(progress->text().contains("AI labels to review: 0"), qPrintable(progress->text()));
        // Undo (through the session, as Edit > Undo would): the page follows.
        session.undo();
        QCOMPARE(storedRow(path, 6).labelSource, LabelSource::AI);
        QCOMPARE(page.reviewedAiRows(), 1);
        QCOMPARE(page.currentRowId(), qint64(6));
        QVERIFY2(progress->text().contains("Agreement with AI: 1 / 1 (100%)"), qPrintable(progress->text()));
    }

    // A picture of the page with realistic rows, for people to look at (FT_SCREENSHOT_DIR).
    void screenshot() {
        if (!qEnvironmentVariableIsSet("FT_SCREENSHOT_DIR"))
            QSKIP("set FT_SCREENSHOT_DIR to save a picture of the page");
        const QString path = m_tmp.filePath("shot.db");
        {
            auto store = ProjectStore::create(path.toStdString());
            const int64_t ds = store->createDataset("helpful-vs-terse", ft::data::DatasetKind::Preference);
            std::vector<Row> rows(3);
            rows[0].fields = {{"prompt", "How do I keep basil fresh?"},
                              {"chosen", "Trim the stems, stand the bunch in a glass of water like flowers, cover it "
                                         "loosely with a bag and keep it on the counter, not in the fridge: the cold "
                                         "blackens the leaves. Change the water every day or two."},
                              {"rejected", "Put it in the fridge."}};
            rows[1].fields = {{"prompt", "Give me a word that means happy."},
                              {"chosen", "Joyful."},
                              {"rejected", "Happy is an adjective describing a feeling of pleasure."}};
            rows[2].fields = {{"prompt", "What is 17 * 3?"}, {"chosen", "51"}, {"rejected", "41"}};
            rows[1].labelSource = LabelSource::AI;
            rows[1].annotator = "ai:ftstudio-tiny-base";
            rows[1].confidence = 0.74;
            store->insertRows(ds, rows);
        }
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        LabelPage page(&session);
        showPage(page);
        page.setFilter(LabelPage::Filter::All);
        page.findChild<QLineEdit*>("annotator")->setText("alice");
        page.setFocus();
        press(page, Qt::Key_2);  // row 2 (AI-labelled) is next
        page.grab().save(qEnvironmentVariable("FT_SCREENSHOT_DIR") + "/label_page.png");
    }

    // With the embedded tiny model: the judge labels every pair (threshold 0.5), the page
    // switches to "AI-labelled to review" and a person's review counts towards agreement.
    void judgePreLabelsForReview() {
        const QString model = m_tinyModel;
        if (!ft::ui::isBaseModelFolder(model) || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no tiny base model or FTSTUDIO_CLI; the judge not checked");
        const QString path = makeProject({});
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        session.setModelDir(model);
        LabelPage page(&session);
        showPage(page);
        page.findChild<QDoubleSpinBox*>("judgeThreshold")->setValue(0.5);
        page.preLabelWithJudge();
        auto* busy = page.findChild<QProgressBar*>("busyIndicator");
        QVERIFY(busy->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(!busy->isVisible(), 60000);
        auto* status = page.findChild<QLabel*>("statusLabel");
        QVERIFY2(status->text().contains("labelled 6 of 6"), qPrintable(status->text()));
        QCOMPARE(page.filter(), LabelPage::Filter::AiToReview);
        QCOMPARE(page.currentRowId(), qint64(1));
        QCOMPARE(storedRow(path, 1).labelSource, LabelSource::AI);
        const std::string judgeChosen = storedRow(path, 1).fields["chosen"].get<std::string>();
        page.setFocus();
        press(page, shown(page, "responseA") == QString::fromStdString(judgeChosen) ? Qt::Key_1 : Qt::Key_2);
        QCOMPARE(page.reviewedAiRows(), 1);
        QCOMPARE(page.agreementsWithAi(), 1);
        QCOMPARE(storedRow(path, 1).labelSource, LabelSource::Human);
    }

    // With the embedded tiny model (built by `ftstudio-cli make-base`): a generated pair,
    // labelled with "2", replaces the row's chosen/rejected.
    void generatedPairIsStoredOnDecision() {
        const QString model = m_tinyModel;
        if (!ft::ui::isBaseModelFolder(model) || !QFileInfo(ft::ui::cliPath()).isExecutable())
            QSKIP("no tiny base model or FTSTUDIO_CLI; generation not checked");
        const QString path = makeProject({});
        Session session;
        QString error;
        QVERIFY2(session.openProject(path, false, &error), qPrintable(error));
        session.setModelDir(model);
        LabelPage page(&session);
        showPage(page);
        page.findChild<QSpinBox*>("maxNewTokens")->setValue(12);
        page.generateResponses();
        auto* genButton = page.findChild<QPushButton*>("generateButton");
        QTRY_VERIFY_WITH_TIMEOUT(genButton->isEnabled(), 60000);
        const QString a = shown(page, "responseA").trimmed(), b = shown(page, "responseB").trimmed();
        QVERIFY2(!a.isEmpty() && !b.isEmpty() && a != b, qPrintable(a + " | " + b));
        QVERIFY2(!a.startsWith("Question 1?"), qPrintable(a));  // the prompt echo is stripped
        page.setFocus();
        press(page, Qt::Key_2);
        const Row r = storedRow(path, 1);
        QCOMPARE(QString::fromStdString(r.fields["chosen"].get<std::string>()), b);
        QCOMPARE(QString::fromStdString(r.fields["rejected"].get<std::string>()), a);
        QCOMPARE(r.fields["prompt"].get<std::string>(), std::string("Question 1?"));

        // Through a template: no echo in the answers, the rendered prompt on the prompt's tooltip.
        page.findChild<QComboBox*>("promptTemplate")->setCurrentText("alpaca");
        page.generateResponses();
        QTRY_VERIFY_WITH_TIMEOUT(genButton->isEnabled(), 60000);
        const QString tip = page.findChild<QTextBrowser*>("promptView")->toolTip();
        QVERIFY2(tip.contains("### Instruction:\n") && tip.contains("### Response:"), qPrintable(tip));
        QVERIFY(!shown(page, "responseA").contains("### Instruction"));
    }
};

FT_TEST_MAIN_GUI(TestGuiLabel)

} // namespace test_gui_label

#include "test_gui_label.moc"
