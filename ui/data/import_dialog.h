// Import a JSONL/JSON/CSV/TSV/text file into a dataset of the open project through
// `ftstudio-cli data import` (one transaction; all-or-nothing unless "import the valid
// records" is ticked), with the file's column mapping, the split for records that name
// none, and tags; shows the engine's validation report.
// Not here: parsing files (core/data/importer.h), the dialog machinery (cli_task_dialog.h).
#pragma once

#include "data/cli_task_dialog.h"

class QCheckBox;
class QComboBox;
class QLineEdit;
class QPlainTextEdit;

namespace ft::ui {

class ImportDialog : public CliTaskDialog {
    Q_OBJECT
public:
    explicit ImportDialog(Session* session, QWidget* parent = nullptr);

    void setFile(const QString& path);         // also proposes a dataset name from it
    void setDatasetName(const QString& name);
    void setKind(const QString& kind);         // "" = detect, or a kind name
    void setRecordLayout(const QString& layout);  // "auto", "alpaca", ...
    void setMapping(const QString& lines);     // FIELD=COLUMN, one a line
    void setSplit(const QString& split);
    void setTags(const QString& commaSeparated);
    void setImportValid(bool on);
    QString datasetName() const;

signals:
    void imported(const QString& datasetName);

protected:
    QStringList arguments(QString* error) override;
    void onFinished(bool ok) override;

private:
    void browse();

    QLineEdit* m_file = nullptr;
    QComboBox* m_dataset = nullptr;
    QComboBox* m_kind = nullptr;
    QComboBox* m_format = nullptr;
    QComboBox* m_layoutBox = nullptr;
    QPlainTextEdit* m_mapping = nullptr;
    QComboBox* m_split = nullptr;
    QLineEdit* m_tags = nullptr;
    QCheckBox* m_importValid = nullptr;
};

} // namespace ft::ui
