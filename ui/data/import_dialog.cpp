#include "data/import_dialog.h"

#include "app/session.h"
#include "data/project_store.h"
#include "data/row_columns.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>

namespace ft::ui {

ImportDialog::ImportDialog(Session* session, QWidget* parent)
    : CliTaskDialog(session, tr("Import data"), tr("Import"), parent) {
    auto* fileRow = new QWidget(this);
    auto* fileLayout = new QHBoxLayout(fileRow);
    fileLayout->setContentsMargins(0, 0, 0, 0);
    m_file = new QLineEdit(fileRow);
    m_file->setObjectName(QStringLiteral("importFile"));
    m_file->setPlaceholderText(tr("a .jsonl, .json, .csv, .tsv or .txt file"));
    auto* browseButton = new QPushButton(tr("Browse…"), fileRow);
    browseButton->setToolTip(tr("Choose the file to import"));
    fileLayout->addWidget(m_file, 1);
    fileLayout->addWidget(browseButton);
    connect(browseButton, &QPushButton::clicked, this, &ImportDialog::browse);

    m_dataset = new QComboBox(this);
    m_dataset->setObjectName(QStringLiteral("importDataset"));
    m_dataset->setEditable(true);
    m_dataset->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_dataset->setToolTip(tr("An existing dataset to add to, or a new name (created by the import)"));
    session->run(tr("Listing datasets"), [&](ft::data::ProjectStore& s) {
        for (const auto& d : s.datasets())
            m_dataset->addItem(QString::fromStdString(d.name));
    });
    m_dataset->setCurrentText(QString());

    m_kind = new QComboBox(this);
    m_kind->addItem(tr("detect from the file"), QString());
    for (const char* k : {"instruction", "chat", "preference", "unpaired", "verifiable", "text"})
        m_kind->addItem(QString::fromUtf8(k), QString::fromUtf8(k));
    m_kind->setToolTip(tr("The kind of a new dataset, or to narrow what the file's records are read as"));
    m_format = new QComboBox(this);
    m_format->addItems({QStringLiteral("auto"), QStringLiteral("jsonl"), QStringLiteral("json"), QStringLiteral("csv"),
                        QStringLiteral("tsv"), QStringLiteral("text")});
    m_layoutBox = new QComboBox(this);
    m_layoutBox->addItems({QStringLiteral("auto"), QStringLiteral("alpaca"), QStringLiteral("sharegpt"),
                           QStringLiteral("openai"), QStringLiteral("trl"), QStringLiteral("kto"),
                           QStringLiteral("verifiable"), QStringLiteral("text"), QStringLiteral("native")});
    m_layoutBox->setToolTip(tr("How records are laid out: alpaca (instruction/input/output), sharegpt, openai "
                               "(messages), trl (prompt/chosen/rejected), kto, verifiable, text, native (an export)"));
    m_mapping = new QPlainTextEdit(this);
    m_mapping->setObjectName(QStringLiteral("importMapping"));
    m_mapping->setPlaceholderText(tr("Column mapping, one FIELD=COLUMN a line, e.g.\ninstruction=question\noutput=answer"));
    m_mapping->setFixedHeight(70);
    m_split = new QComboBox(this);
    m_split->addItems(splitNames());
    m_split->setToolTip(tr("The split of records that do not name one"));
    m_tags = new QLineEdit(this);
    m_tags->setPlaceholderText(tr("optional, comma separated: added to every imported row"));
    m_importValid = new QCheckBox(tr("Import the valid records and list the rejected ones"), this);
    m_importValid->setObjectName(QStringLiteral("importValid"));
    m_importValid->setToolTip(tr("Unticked: any rejected record means nothing is imported"));

    form()->addRow(tr("File"), fileRow);
    form()->addRow(tr("Dataset"), m_dataset);
    form()->addRow(tr("Kind"), m_kind);
    form()->addRow(tr("Format"), m_format);
    form()->addRow(tr("Layout"), m_layoutBox);
    form()->addRow(tr("Columns"), m_mapping);
    form()->addRow(tr("Split"), m_split);
    form()->addRow(tr("Tags"), m_tags);
    form()->addRow(QString(), m_importValid);
}

void ImportDialog::setFile(const QString& path) {
    m_file->setText(path);
    if (m_dataset->currentText().trimmed().isEmpty())
        m_dataset->setCurrentText(QFileInfo(path).completeBaseName());
}

void ImportDialog::setDatasetName(const QString& name) { m_dataset->setCurrentText(name); }
void ImportDialog::setKind(const QString& kind) {
    const int i = m_kind->findData(kind);
    m_kind->setCurrentIndex(i < 0 ? 0 : i);
}
void ImportDialog::setRecordLayout(const QString& layout) { m_layoutBox->setCurrentText(layout); }
void ImportDialog::setMapping(const QString& lines) { m_mapping->setPlainText(lines); }
void ImportDialog::setSplit(const QString& split) { m_split->setCurrentText(split); }
void ImportDialog::setTags(const QString& commaSeparated) { m_tags->setText(commaSeparated); }
void ImportDialog::setImportValid(bool on) { m_importValid->setChecked(on); }
QString ImportDialog::datasetName() const { return m_dataset->currentText().trimmed(); }

void ImportDialog::browse() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Import data"), QFileInfo(m_file->text()).absolutePath(),
                                                      tr("Data files (*.jsonl *.json *.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty())
        setFile(path);
}

QStringList ImportDialog::arguments(QString* error) {
    const QString file = m_file->text().trimmed();
    if (file.isEmpty() || !QFileInfo(file).isFile()) {
        *error = file.isEmpty() ? tr("Choose a file to import.") : tr("'%1' is not a file.").arg(file);
        return {};
    }
    if (datasetName().isEmpty()) {
        *error = tr("Name the dataset to import into.");
        return {};
    }
    QStringList args{QStringLiteral("data"),      QStringLiteral("import"), QStringLiteral("--project"),
                     session()->projectPath(),    QStringLiteral("--dataset"), datasetName(),
                     QStringLiteral("--file"),    QFileInfo(file).absoluteFilePath(),
                     QStringLiteral("--format"),  m_format->currentText(),
                     QStringLiteral("--layout"),  m_layoutBox->currentText(),
                     QStringLiteral("--split"),   m_split->currentText()};
    if (const QString kind = m_kind->currentData().toString(); !kind.isEmpty())
        args << QStringLiteral("--kind") << kind;
    const QStringList lines = m_mapping->toPlainText().split('\n', Qt::SkipEmptyParts);
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines[i].trimmed();
        if (line.isEmpty())
            continue;
        const qsizetype eq = line.indexOf('=');
        if (eq <= 0 || eq == line.size() - 1) {
            *error = tr("Column mapping line %1 ('%2') must read FIELD=COLUMN, e.g. instruction=question.")
                         .arg(i + 1).arg(line);
            return {};
        }
        args << QStringLiteral("--map") << line.left(eq).trimmed() + '=' + line.mid(eq + 1).trimmed();
    }
    for (const std::string& tag : parseTags(m_tags->text()))
        args << QStringLiteral("--tag") << QString::fromStdString(tag);
    if (m_importValid->isChecked())
        args << QStringLiteral("--import-valid");
    return args;
}

void ImportDialog::onFinished(bool ok) {
    // Even a refused import may have created nothing; the datasets are re-read either way.
    session()->notifyDatasetsChanged();
    if (ok) {
        session()->notifyRowsChanged(-1);
        emit imported(datasetName());
    }
}

} // namespace ft::ui
