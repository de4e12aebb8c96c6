#include "data/export_dialog.h"

#include "app/session.h"
#include "data/row_columns.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace ft::ui {

ExportDialog::ExportDialog(Session* session, const QString& datasetName, QWidget* parent)
    : CliTaskDialog(session, tr("Export %1").arg(datasetName), tr("Export"), parent), m_datasetName(datasetName) {
    auto* fileRow = new QWidget(this);
    auto* fileLayout = new QHBoxLayout(fileRow);
    fileLayout->setContentsMargins(0, 0, 0, 0);
    m_file = new QLineEdit(fileRow);
    m_file->setObjectName(QStringLiteral("exportFile"));
    m_file->setText(QDir::home().filePath(datasetName + QStringLiteral(".jsonl")));
    auto* browseButton = new QPushButton(tr("Browse…"), fileRow);
    browseButton->setToolTip(tr("Choose where to write the file"));
    fileLayout->addWidget(m_file, 1);
    fileLayout->addWidget(browseButton);
    connect(browseButton, &QPushButton::clicked, this, &ExportDialog::browse);

    m_format = new QComboBox(this);
    m_format->addItems({QStringLiteral("auto"), QStringLiteral("jsonl"), QStringLiteral("json"), QStringLiteral("csv"),
                        QStringLiteral("tsv"), QStringLiteral("text")});
    m_format->setToolTip(tr("auto: from the file's extension"));
    m_layoutBox = new QComboBox(this);
    m_layoutBox->addItems({QStringLiteral("native"), QStringLiteral("auto"), QStringLiteral("alpaca"),
                           QStringLiteral("sharegpt"), QStringLiteral("openai"), QStringLiteral("trl"),
                           QStringLiteral("kto"), QStringLiteral("verifiable"), QStringLiteral("text")});
    m_layoutBox->setToolTip(tr("native keeps every field and label (re-importable as is); the others are what "
                               "other tools read"));
    m_split = new QComboBox(this);
    m_split->addItem(tr("all rows"), QString());
    for (const QString& s : splitNames())
        m_split->addItem(s, s);
    m_metadata = new QComboBox(this);
    m_metadata->addItem(tr("default (yes for native)"), QString());
    m_metadata->addItem(tr("yes"), QStringLiteral("yes"));
    m_metadata->addItem(tr("no"), QStringLiteral("no"));
    m_metadata->setToolTip(tr("Write tags, notes, split and labels with each record"));

    form()->addRow(tr("Dataset"), new QLabel(datasetName, this));
    form()->addRow(tr("File"), fileRow);
    form()->addRow(tr("Format"), m_format);
    form()->addRow(tr("Layout"), m_layoutBox);
    form()->addRow(tr("Split"), m_split);
    form()->addRow(tr("Metadata"), m_metadata);
}

void ExportDialog::setFile(const QString& path) { m_file->setText(path); }
void ExportDialog::setFormat(const QString& format) { m_format->setCurrentText(format); }
void ExportDialog::setRecordLayout(const QString& layout) { m_layoutBox->setCurrentText(layout); }
void ExportDialog::setSplit(const QString& split) {
    const int i = m_split->findData(split);
    m_split->setCurrentIndex(i < 0 ? 0 : i);
}

void ExportDialog::browse() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(m_datasetName), m_file->text(),
                                                      tr("JSON Lines (*.jsonl);;JSON (*.json);;CSV (*.csv);;"
                                                         "TSV (*.tsv);;Text (*.txt)"));
    if (!path.isEmpty())
        m_file->setText(path);
}

QStringList ExportDialog::arguments(QString* error) {
    const QString file = m_file->text().trimmed();
    if (file.isEmpty()) {
        *error = tr("Choose the file to write.");
        return {};
    }
    if (!QFileInfo(QFileInfo(file).absolutePath()).isDir()) {
        *error = tr("The folder '%1' does not exist.").arg(QFileInfo(file).absolutePath());
        return {};
    }
    QStringList args{QStringLiteral("data"),     QStringLiteral("export"),  QStringLiteral("--project"),
                     session()->projectPath(),   QStringLiteral("--dataset"), m_datasetName,
                     QStringLiteral("--file"),   QFileInfo(file).absoluteFilePath(),
                     QStringLiteral("--format"), m_format->currentText(),
                     QStringLiteral("--layout"), m_layoutBox->currentText()};
    if (const QString split = m_split->currentData().toString(); !split.isEmpty())
        args << QStringLiteral("--split") << split;
    if (const QString meta = m_metadata->currentData().toString(); !meta.isEmpty())
        args << QStringLiteral("--metadata") << meta;
    return args;
}

} // namespace ft::ui
