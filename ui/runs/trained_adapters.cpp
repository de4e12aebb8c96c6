#include "runs/trained_adapters.h"

#include "app/session.h"
#include "data/project_store.h"

#include <QDir>
#include <QFileInfo>
#include <QObject>

namespace ft::ui {

std::vector<TrainedAdapter> trainedAdapters(Session& session) {
    std::vector<TrainedAdapter> out;
    if (!session.hasProject())
        return out;
    session.run(QObject::tr("List runs"), [&](ft::data::ProjectStore& s) {
        for (const auto& r : s.runs()) {
            const QFileInfo dir(QDir(QString::fromStdString(r.outputDir)).filePath(QStringLiteral("adapter")));
            if (r.status == "finished" && dir.exists())
                out.push_back({QString::fromStdString(r.name), dir.absoluteFilePath(), r.id});
        }
    });
    return out;
}

} // namespace ft::ui
