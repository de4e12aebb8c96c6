#include "app/first_start.h"

#include "app/session.h"
#include "app/studio_paths.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "engine/cli_job.h"

#include <QFileInfo>
#include <QProgressDialog>

namespace ft::ui {

QList<QPair<QString, QString>> sampleDatasets() {
    return {{QStringLiteral("instructions"), QStringLiteral("sft/instructions.jsonl")},
            {QStringLiteral("preferences"), QStringLiteral("align/preference.jsonl")},
            {QStringLiteral("reward-pairs"), QStringLiteral("align/reward_pairs.jsonl")},
            {QStringLiteral("kto"), QStringLiteral("align/unpaired.jsonl")},
            {QStringLiteral("verifiable"), QStringLiteral("align/verifiable.jsonl")}};
}

bool createSampleProject(Session* session, const QString& path, QString* error) {
    if (!session->openProject(path, true, error))
        return false;
    const QString samples = samplesDir();
    if (samples.isEmpty()) {
        if (error)
            *error = QStringLiteral("the sample datasets were not found (set FTSTUDIO_SOURCE_DIR to the source folder)");
        return false;
    }
    for (const auto& [name, file] : sampleDatasets()) {
        const QString full = samples + "/" + file;
        if (!QFileInfo::exists(full))
            continue;
        try {
            ft::data::ImportOptions options;
            ft::data::importFile(*session->store(), name.toStdString(), full.toStdString(), options);
        } catch (const std::exception& e) {
            if (error)
                *error = QStringLiteral("importing %1: %2").arg(full, QString::fromStdString(e.what()));
            return false;
        }
    }
    // Pairs waiting for a person on the Label page: the first 40 sample pairs with their
    // labels cleared (the sample file's own labels count as imported ones).
    try {
        ft::data::ProjectStore& store = *session->store();
        if (auto prefs = store.dataset("preferences")) {
            ft::data::RowQuery q;
            q.datasetId = prefs->id;
            q.limit = 40;
            std::vector<ft::data::Row> rows = store.query(q);
            for (auto& row : rows) {
                row.labelSource = ft::data::LabelSource::None;
                row.annotator.clear();
                row.confidence.reset();
                row.labeledAt.clear();
            }
            store.transaction([&] {
                const int64_t id = store.createDataset("pairs-to-label", ft::data::DatasetKind::Preference,
                                                       "sample pairs for A/B labelling");
                store.insertRows(id, rows);
            });
        }
    } catch (const std::exception& e) {
        if (error)
            *error = QStringLiteral("creating the sample pairs to label: ") + QString::fromStdString(e.what());
        return false;
    }
    session->notifyDatasetsChanged();
    return true;
}

BaseModelBuilder::BaseModelBuilder(QWidget* dialogParent) : QObject(dialogParent), m_parent(dialogParent) {}
BaseModelBuilder::~BaseModelBuilder() = default;

void BaseModelBuilder::start() {
    m_dialog = new QProgressDialog(QStringLiteral("Building the embedded base model (a few minutes, once)…"),
                                   QStringLiteral("Cancel"), 0, 0, m_parent);
    m_dialog->setWindowTitle(QStringLiteral("First start"));
    m_dialog->setMinimumWidth(520);
    m_dialog->setMinimumDuration(0);
    m_dialog->setAutoClose(false);
    m_dialog->setAutoReset(false);
    m_job = new CliJob(this);
    connect(m_job, &CliJob::errorLine, this, [this](const QString& line) {
        if (!line.trimmed().isEmpty())
            m_dialog->setLabelText(QStringLiteral("Building the embedded base model (a few minutes, once)…\n") +
                                   line.trimmed());
    });
    connect(m_dialog, &QProgressDialog::canceled, m_job, &CliJob::cancel);
    connect(m_job, &CliJob::finished, this, [this](bool ok, const QString& message) {
        m_dialog->hide();
        m_dialog->deleteLater();
        if (ok && isBaseModelFolder(defaultBaseModelDir()))
            emit ready(defaultBaseModelDir());
        else
            emit failed(ok ? QStringLiteral("make-base finished but %1 holds no model").arg(defaultBaseModelDir())
                           : QStringLiteral("building the base model failed: ") + message);
    });
    m_dialog->show();
    QStringList args{QStringLiteral("make-base")};
    if (const QString samples = samplesDir(); !samples.isEmpty())
        args << QStringLiteral("--corpus") << samples + QStringLiteral("/base_corpus");
    m_job->start(args);
}

} // namespace ft::ui
