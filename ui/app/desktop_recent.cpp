#include "app/desktop_recent.h"

#include <QDir>
#include <QDomDocument>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUrl>

namespace ft::ui {

namespace {
constexpr auto kBookmarkNs = "http://www.freedesktop.org/standards/desktop-bookmarks";
constexpr auto kMimeNs = "http://www.freedesktop.org/standards/shared-mime-info";

// The timestamp format GLib writes and reads (ISO 8601, UTC, microseconds).
QString stamp(const QDateTime& t) {
    return t.toUTC().toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss.zzz000Z"));
}

QDomElement child(QDomElement parent, const QString& tag) {
    QDomElement e = parent.firstChildElement(tag);
    if (e.isNull()) {
        e = parent.ownerDocument().createElement(tag);
        parent.appendChild(e);
    }
    return e;
}

// <info><metadata owner="http://freedesktop.org"> of a bookmark, made when missing.
QDomElement freedesktopMetadata(QDomElement bookmark) {
    QDomElement info = child(bookmark, QStringLiteral("info"));
    for (QDomElement m = info.firstChildElement(QStringLiteral("metadata")); !m.isNull();
         m = m.nextSiblingElement(QStringLiteral("metadata")))
        if (m.attribute(QStringLiteral("owner")) == QLatin1String("http://freedesktop.org"))
            return m;
    QDomElement m = bookmark.ownerDocument().createElement(QStringLiteral("metadata"));
    m.setAttribute(QStringLiteral("owner"), QStringLiteral("http://freedesktop.org"));
    info.appendChild(m);
    return m;
}
} // namespace

QString desktopRecentFile() {
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) + QStringLiteral("/recently-used.xbel");
}

bool addDesktopRecent(const DesktopRecentEntry& entry, QString* error, const QDateTime& now) {
    auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    const QString file = desktopRecentFile();
    QDomDocument doc;
    if (QFile in(file); in.exists()) {
        if (!in.open(QIODevice::ReadOnly))
            return fail(QStringLiteral("cannot read %1: %2").arg(file, in.errorString()));
        // Without namespace processing the prefixed names (bookmark:, mime:) stay as
        // they are written, and so does everything this code does not touch.
        QString message;
        int line = 0;
        if (!doc.setContent(&in, false, &message, &line))
            return fail(QStringLiteral("%1 line %2: %3; left it as it is").arg(file).arg(line).arg(message));
        if (doc.documentElement().tagName() != QLatin1String("xbel"))
            return fail(QStringLiteral("%1 is not an XBEL file; left it as it is").arg(file));
    } else {
        doc.appendChild(doc.createProcessingInstruction(QStringLiteral("xml"),
                                                        QStringLiteral("version=\"1.0\" encoding=\"UTF-8\"")));
        QDomElement root = doc.createElement(QStringLiteral("xbel"));
        root.setAttribute(QStringLiteral("version"), QStringLiteral("1.0"));
        doc.appendChild(root);
    }
    QDomElement root = doc.documentElement();
    if (!root.hasAttribute(QStringLiteral("xmlns:bookmark")))
        root.setAttribute(QStringLiteral("xmlns:bookmark"), QString::fromLatin1(kBookmarkNs));
    if (!root.hasAttribute(QStringLiteral("xmlns:mime")))
        root.setAttribute(QStringLiteral("xmlns:mime"), QString::fromLatin1(kMimeNs));

    const QString href = QString::fromUtf8(QUrl::fromLocalFile(QFileInfo(entry.filePath).absoluteFilePath()).toEncoded());
    const QString when = stamp(now);
    QDomElement bookmark;
    for (QDomElement b = root.firstChildElement(QStringLiteral("bookmark")); !b.isNull();
         b = b.nextSiblingElement(QStringLiteral("bookmark")))
        if (b.attribute(QStringLiteral("href")) == href)
            bookmark = b;
    if (bookmark.isNull()) {
        bookmark = doc.createElement(QStringLiteral("bookmark"));
        bookmark.setAttribute(QStringLiteral("href"), href);
        bookmark.setAttribute(QStringLiteral("added"), when);
        root.appendChild(bookmark);
    }
    bookmark.setAttribute(QStringLiteral("modified"), when);
    bookmark.setAttribute(QStringLiteral("visited"), when);

    QDomElement metadata = freedesktopMetadata(bookmark);
    child(metadata, QStringLiteral("mime:mime-type")).setAttribute(QStringLiteral("type"), entry.mimeType);
    QDomElement apps = child(metadata, QStringLiteral("bookmark:applications"));
    QDomElement app;
    for (QDomElement a = apps.firstChildElement(QStringLiteral("bookmark:application")); !a.isNull();
         a = a.nextSiblingElement(QStringLiteral("bookmark:application")))
        if (a.attribute(QStringLiteral("name")) == entry.appName)
            app = a;
    if (app.isNull()) {
        app = doc.createElement(QStringLiteral("bookmark:application"));
        app.setAttribute(QStringLiteral("name"), entry.appName);
        app.setAttribute(QStringLiteral("count"), 0);
        apps.appendChild(app);
    }
    // GLib quotes the command line with single quotes.
    app.setAttribute(QStringLiteral("exec"), QLatin1Char('\'') + entry.appExec + QLatin1Char('\''));
    app.setAttribute(QStringLiteral("modified"), when);
    app.setAttribute(QStringLiteral("count"), app.attribute(QStringLiteral("count")).toInt() + 1);

    QDir().mkpath(QFileInfo(file).absolutePath());
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly))
        return fail(QStringLiteral("cannot write %1: %2").arg(file, out.errorString()));
    out.write(doc.toByteArray(2));
    if (!out.commit())
        return fail(QStringLiteral("cannot write %1: %2").arg(file, out.errorString()));
    return true;
}

} // namespace ft::ui
