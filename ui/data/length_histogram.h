// The Data page's token-length chart: on request ("Token lengths") it runs
// `ftstudio-cli data stats --model <current model> --json` off the GUI thread and draws
// the result as bars in a QCustomPlot (objectName "lengthHistogram"): a histogram when
// the engine reports one (tokens.histogram: {bin_width, counts}), otherwise the bars of
// min / median / mean / p95 / max it always reports, with the model's context length.
// Not here: tokenizing (the engine does it), the rest of the page.
#pragma once

#include <QWidget>

class QCustomPlot;
class QLabel;
class QPushButton;

namespace ft::ui {

class CliJob;
class Session;

class LengthHistogram : public QWidget {
    Q_OBJECT
public:
    explicit LengthHistogram(Session* session, QWidget* parent = nullptr);

    void setDataset(const QString& name);  // clears the chart
    void compute();                        // starts the engine; computed() follows
    bool isRunning() const;
    // Draws the engine's JSON; false with `error` when it holds no token lengths.
    bool showStats(const QByteArray& json, QString* error);
    QCustomPlot* plot() const { return m_plot; }
    QString summary() const;  // the line under the chart, or the message in the empty one

signals:
    void computed(bool ok);

private:
    void clearChart(const QString& message);

    Session* m_session = nullptr;
    CliJob* m_job = nullptr;
    QString m_dataset;
    QPushButton* m_button = nullptr;
    QLabel* m_summary = nullptr;
    QString m_message;  // shown in the empty chart
    QCustomPlot* m_plot = nullptr;
};

} // namespace ft::ui
