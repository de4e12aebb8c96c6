// kill -9 during a labelling session: the real Label page (label_session_child.cpp, a
// child process) labels and undoes pairs as fast as it can; the test SIGKILLs it at a
// seeded random moment, then reads the project with SQLite itself. Every decision the
// page had shown as saved, and every undo it had shown as done, must be in the file;
// only the one key in flight at the kill may have landed or not; nothing else changed;
// PRAGMA integrity_check is ok; and the studio opens the project again.
#include "app/session.h"

#include "test_main.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

#include <map>
#include <optional>
#include <random>
#include <vector>

namespace test_gui_label_kill {

// What a test can see of one preference row.
struct Label {
    bool human = false;
    QString chosen, rejected;
    bool tie = false;
    bool operator==(const Label& o) const
    {
        return human == o.human && chosen == o.chosen && rejected == o.rejected && tie == o.tie;
    }
};

QString describe(const Label& l)
{
    return QStringLiteral("%1 chosen '%2' rejected '%3'%4")
        .arg(l.human ? "human" : "unlabelled", l.chosen, l.rejected, l.tie ? " tie" : "");
}

class TestGuiLabelKill : public QObject {
    Q_OBJECT
private:
    static constexpr int kRows = 5000;  // more than a session labels in the longest 1.6 s before its kill
    QTemporaryDir m_tmp;

    // A project of kRows preference rows: prompt "Question i?", chosen "good i", rejected "bad i".
    QString makeProject(int trial)
    {
        const QString path = m_tmp.filePath(QStringLiteral("trial-%1.db").arg(trial));
        ft::ui::Session session;
        QString error;
        if (!session.openProject(path, true, &error))
            qFatal("%s", qPrintable(error));
        session.run(QStringLiteral("rows"), [](ft::data::ProjectStore& s) {
            const int64_t ds = s.createDataset("prefs", ft::data::DatasetKind::Preference);
            std::vector<ft::data::Row> rows(kRows);
            for (int i = 0; i < kRows; ++i)
                rows[i].fields = {{"prompt", "Question " + std::to_string(i + 1) + "?"},
                                  {"chosen", "good " + std::to_string(i + 1)},
                                  {"rejected", "bad " + std::to_string(i + 1)}};
            s.insertRows(ds, rows);
        });
        return path;
    }

    // The rows as SQLite reads them (not the studio's reader), and the integrity check.
    static std::map<qint64, Label> readProject(const QString& path, QString* integrity)
    {
        sqlite3* db = nullptr;
        std::map<qint64, Label> out;
        if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            *integrity = QString::fromUtf8(sqlite3_errmsg(db));
            sqlite3_close(db);
            return out;
        }
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
        *integrity = sqlite3_step(st) == SQLITE_ROW ? QString::fromUtf8((const char*)sqlite3_column_text(st, 0))
                                                     : QStringLiteral("no answer");
        sqlite3_finalize(st);
        sqlite3_prepare_v2(db,
                           "SELECT id, label_source, json_extract(fields_json, '$.chosen'), "
                           "json_extract(fields_json, '$.rejected'), tags_json FROM rows ORDER BY id",
                           -1, &st, nullptr);
        while (sqlite3_step(st) == SQLITE_ROW) {
            Label l;
            const QString source = QString::fromUtf8((const char*)sqlite3_column_text(st, 1));
            l.human = source == QStringLiteral("human");
            l.chosen = QString::fromUtf8((const char*)sqlite3_column_text(st, 2));
            l.rejected = QString::fromUtf8((const char*)sqlite3_column_text(st, 3));
            l.tie = QString::fromUtf8((const char*)sqlite3_column_text(st, 4)).contains(QStringLiteral("\"tie\""));
            out[sqlite3_column_int64(st, 0)] = l;
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        qputenv("FTSTUDIO_DATA_DIR", m_tmp.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_tmp.filePath("config").toUtf8());
        QCoreApplication::setOrganizationName("ftstudio-test");
        QCoreApplication::setApplicationName("test_gui_label_kill");
    }

    void killedWhileLabellingKeepsEverySavedLabel()
    {
        std::mt19937 random(20261207);
        int inFlightLanded = 0, inFlightNot = 0, decisionsChecked = 0;
        constexpr int kTrials = 12;
        for (int trial = 1; trial <= kTrials; ++trial) {
            const QString path = makeProject(trial);
            QProcess child;
            child.setProcessChannelMode(QProcess::SeparateChannels);
            child.start(QCoreApplication::applicationFilePath(),
                        {QStringLiteral("label_session_child"), path, QString::number(trial)});
            QVERIFY2(child.waitForStarted(), qPrintable(child.errorString()));
            QByteArray out;
            QTRY_VERIFY_WITH_TIMEOUT((out += child.readAllStandardOutput()).contains("ready\n"), 30000);
            // Kill after a seeded 0.1 to 1.6 s of labelling: tens to hundreds of decisions.
            QTest::qWait(100 + int(random() % 1500));
            child.kill();  // SIGKILL
            QVERIFY(child.waitForFinished(10000));
            out += child.readAllStandardOutput();
            const QByteArray err = child.readAllStandardError();
            QVERIFY2(!out.contains("finished"), "the session labelled every row before the kill; give it more rows");
            QVERIFY2(!err.contains("label_session_child:"), err.constData());  // the session's own failures

            // Replay what the page showed.
            std::map<qint64, Label> expected;
            for (int i = 1; i <= kRows; ++i)
                expected[i] = {false, QStringLiteral("good %1").arg(i), QStringLiteral("bad %1").arg(i), false};
            std::vector<std::pair<qint64, Label>> undo;  // the row and its label before each decision
            std::optional<std::pair<qint64, Label>> inFlight;  // the key pressed last, with its outcome
            int decisions = 0;
            for (const QByteArray& raw : out.split('\n')) {
                const QString line = QString::fromUtf8(raw);
                if (line.startsWith(QStringLiteral("doing label "))) {
                    const QStringList f = line.mid(12).split('\t');
                    QCOMPARE(f.size(), 4);
                    inFlight = {{f[0].toLongLong(), Label{true, f[1], f[2], f[3] == QStringLiteral("1")}}};
                } else if (line.startsWith(QStringLiteral("saved "))) {
                    QVERIFY(inFlight && inFlight->first == line.mid(6).toLongLong());
                    undo.emplace_back(inFlight->first, expected[inFlight->first]);
                    expected[inFlight->first] = inFlight->second;
                    inFlight.reset();
                    ++decisions;
                } else if (line.startsWith(QStringLiteral("doing undo "))) {
                    QVERIFY(!undo.empty() && undo.back().first == line.mid(11).toLongLong());
                    inFlight = undo.back();
                } else if (line.startsWith(QStringLiteral("undone "))) {
                    QVERIFY(inFlight);
                    expected[inFlight->first] = inFlight->second;
                    undo.pop_back();
                    inFlight.reset();
                }
            }
            QVERIFY2(decisions >= 5, qPrintable(QStringLiteral("trial %1: only %2 decisions").arg(trial).arg(decisions)));

            QString integrity;
            const std::map<qint64, Label> stored = readProject(path, &integrity);
            QCOMPARE(integrity, QStringLiteral("ok"));
            QCOMPARE(int(stored.size()), kRows);
            for (const auto& [id, want] : expected) {
                const Label& got = stored.at(id);
                if (inFlight && inFlight->first == id && !(got == want)) {
                    QVERIFY2(got == inFlight->second,
                             qPrintable(QStringLiteral("trial %1 row %2 (key in flight): %3, expected %4 or %5")
                                            .arg(trial)
                                            .arg(id)
                                            .arg(describe(got), describe(want), describe(inFlight->second))));
                    ++inFlightLanded;
                    continue;
                }
                QVERIFY2(got == want, qPrintable(QStringLiteral("trial %1 row %2: %3, the page had shown %4")
                                                     .arg(trial)
                                                     .arg(id)
                                                     .arg(describe(got), describe(want))));
            }
            if (inFlight && stored.at(inFlight->first) == expected[inFlight->first] &&
                !(inFlight->second == expected[inFlight->first]))
                ++inFlightNot;
            decisionsChecked += decisions;

            // The studio opens the project again, and its history still undoes.
            ft::ui::Session again;
            QString error;
            QVERIFY2(again.openProject(path, false, &error), qPrintable(error));
        }
        qInfo("%d trials, %d saved decisions checked; the key in flight had landed %d times, not %d times", kTrials,
              decisionsChecked, inFlightLanded, inFlightNot);
    }
};

FT_TEST_MAIN_GUI(TestGuiLabelKill)

} // namespace test_gui_label_kill

#include "test_gui_label_kill.moc"
