// Export a dataset (or one split) of the open project to a file through
// `ftstudio-cli data export` (written to a temporary name and renamed into place):
// format, record layout, split and whether to write tags/notes/labels.
// Not here: writing files (core/data/exporter.h), the dialog machinery (cli_task_dialog.h).
#pragma once

#include "data/cli_task_dialog.h"

class QComboBox;
class QLineEdit;

namespace ft::ui {

class ExportDialog : public CliTaskDialog {
    Q_OBJECT
public:
    ExportDialog(Session* session, const QString& datasetName, QWidget* parent = nullptr);

    void setFile(const QString& path);
    void setFormat(const QString& format);  // auto, jsonl, json, csv, tsv, text
    void setRecordLayout(const QString& layout);
    void setSplit(const QString& split);    // "" = all rows

protected:
    QStringList arguments(QString* error) override;

private:
    void browse();

    QString m_datasetName;
    QLineEdit* m_file = nullptr;
    QComboBox* m_format = nullptr;
    QComboBox* m_layoutBox = nullptr;
    QComboBox* m_split = nullptr;
    QComboBox* m_metadata = nullptr;
};

} // namespace ft::ui
