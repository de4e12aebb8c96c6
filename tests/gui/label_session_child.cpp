// A person labelling preference pairs on the real Label page, for test_gui_label_kill:
//   ftstudio_gui_tests label_session_child PROJECT SEED
// opens PROJECT in a Session, shows the Label page and, with a seeded hand, presses 1
// (A better), 2 (B better), T (tie) or, now and then, Ctrl+Z (take the last decision
// back), as fast as the page allows, until every row is labelled. It is not a test: the
// test SIGKILLs it at a random moment and checks the project against what it printed.
// One line per step on stdout, flushed before the next key:
//   doing label ID CHOSEN REJECTED TIE   the key is about to be pressed; the row, if the
//                                        page saves it, will hold these (tab-separated)
//   saved ID                             the page's status line said "saved"
//   doing undo ID / undone ID            the same for Ctrl+Z
//   ready / finished
#include "app/session.h"
#include "label/label_page.h"
#include "util/random.h"

#include "test_main.h"

#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QTest>
#include <QTextBrowser>

#include <cstdio>
#include <string>
#include <vector>

namespace label_session_child {

namespace {

void say(const QString& line)
{
    std::fputs(qPrintable(line + '\n'), stdout);
    std::fflush(stdout);
}

void press(QWidget& page, Qt::Key key, Qt::KeyboardModifiers mods = Qt::NoModifier)
{
    QTest::keyClick(&page, key, mods);
    QCoreApplication::processEvents();
}

int fail(const QString& why)
{
    std::fprintf(stderr, "label_session_child: %s\n", qPrintable(why));
    return 1;
}

int run(int argc, char** argv)
{
    if (argc < 3)
        return fail("usage: label_session_child PROJECT SEED");
    const QString path = QString::fromLocal8Bit(argv[1]);
    ft::util::SplitMix64 rng(std::stoull(argv[2]));
    ft::ui::Session session;
    QString error;
    if (!session.openProject(path, false, &error))
        return fail(error);
    ft::ui::LabelPage page(&session);
    page.resize(1280, 800);
    page.show();
    QApplication::setActiveWindow(&page);
    if (!QTest::qWaitForWindowActive(&page))
        return fail("the page did not become active");
    page.findChild<QLineEdit*>("annotator")->setText("chaos");
    page.setFocus();
    auto* status = page.findChild<QLabel*>("statusLabel");
    std::vector<qint64> decisions;  // what Ctrl+Z would take back, last on top
    say("ready");
    while (page.currentRowId() > 0) {
        const qint64 id = page.currentRowId();
        const uint64_t u = rng.below(100);
        if (u < 15 && !decisions.empty()) {
            const qint64 back = decisions.back();
            say(QStringLiteral("doing undo %1").arg(back));
            press(page, Qt::Key_Z, Qt::ControlModifier);
            if (!status->text().startsWith(QStringLiteral("Undid")))
                return fail("undo of row " + QString::number(back) + ": " + status->text());
            decisions.pop_back();
            say(QStringLiteral("undone %1").arg(back));
            continue;
        }
        const QString a = page.findChild<QTextBrowser*>("responseA")->toPlainText();
        const QString b = page.findChild<QTextBrowser*>("responseB")->toPlainText();
        const int choice = int(u % 3);  // 0: A better, 1: B better, 2: tie (the stored pair stays)
        const QString chosen = choice == 0 ? a : choice == 1 ? b : (page.aShowsChosen() ? a : b);
        const QString rejected = chosen == a ? b : a;
        say(QStringLiteral("doing label %1\t%2\t%3\t%4").arg(id).arg(chosen, rejected).arg(choice == 2 ? 1 : 0));
        press(page, choice == 0 ? Qt::Key_1 : choice == 1 ? Qt::Key_2 : Qt::Key_T);
        if (!status->text().endsWith(QStringLiteral("saved.")))
            return fail("row " + QString::number(id) + ": " + status->text());
        decisions.push_back(id);
        say(QStringLiteral("saved %1").arg(id));
    }
    say("finished");
    return 0;
}

const fttest::TestRegistration registration(__FILE__, fttest::AppKind::Gui, run);

} // namespace

} // namespace label_session_child
