// "As trained": one row as the trainer sees it for the current model, prompt format and
// sequence length (`ftstudio-cli data preview`, engine/row_preview.h): the rendered text
// split into its tokens, the tokens that carry loss highlighted and the masked ones
// dimmed, where max_seq_len cuts, and a warning when nothing of the response is left;
// for preference rows both sides; with packing, the packed row the row shares in the
// first epoch and its neighbours there. It follows the Data page's current row and reruns the
// engine when a setting changes; the GUI never waits for it.
// Not here: the preview itself (core/engine/row_preview.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QTextBrowser;

namespace ft::ui {

class CliJob;
class Session;

class AsTrainedDialog : public QDialog {
    Q_OBJECT
public:
    AsTrainedDialog(Session* session, QWidget* parent = nullptr);

    // Shows row `rowId` of dataset `dataset` (of kind `kind`: "instruction", "preference", ...).
    void setRow(const QString& dataset, const QString& kind, qint64 rowId);
    bool isRunning() const;
    const nlohmann::json& preview() const { return m_preview; }  // the engine's JSON; null before
    QString html() const;

signals:
    void previewShown(bool ok);

private:
    void refresh();
    void showPreview(const nlohmann::json& preview);
    static QString packedHtml(const nlohmann::json& packed, QString* summary);

    Session* m_session = nullptr;
    CliJob* m_job = nullptr;
    QLabel* m_title = nullptr;
    QComboBox* m_template = nullptr;
    QSpinBox* m_maxSeqLen = nullptr;
    QComboBox* m_lossOn = nullptr;
    QCheckBox* m_packing = nullptr;
    QLabel* m_summary = nullptr;
    QTextBrowser* m_view = nullptr;
    QString m_dataset, m_kind;
    qint64 m_rowId = 0;
    nlohmann::json m_preview;
};

} // namespace ft::ui
