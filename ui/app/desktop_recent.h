// The desktop's list of recently used files (freedesktop.org's recently-used.xbel in
// $XDG_DATA_HOME, the list GTK and KDE file choosers and launchers show): the studio
// adds the projects it opens there, besides its own File > Open Recent menu.
// The file belongs to every application: entries of others are kept exactly, a file
// that cannot be parsed is left alone, and the new file replaces the old atomically.
#pragma once

#include <QDateTime>
#include <QString>

namespace ft::ui {

struct DesktopRecentEntry {
    QString filePath;
    QString mimeType;        // e.g. "application/x-ftstudio-project"
    QString appName;         // "Fine-Tuning Studio"
    QString appExec;         // the command line with %u, e.g. "ftstudio %u"
};

// $XDG_DATA_HOME/recently-used.xbel (~/.local/share/recently-used.xbel).
QString desktopRecentFile();

// Adds `entry` (or, when the file is already listed, updates its times and raises this
// application's count). `now` is the time to record (tests pass a fixed one). False
// with `error` when the list cannot be read or written; the old list is then untouched.
bool addDesktopRecent(const DesktopRecentEntry& entry, QString* error,
                      const QDateTime& now = QDateTime::currentDateTimeUtc());

} // namespace ft::ui
