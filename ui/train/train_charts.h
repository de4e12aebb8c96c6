// Live charts of a training run, fed with the engine's events (docs/events.md): train
// and eval loss, learning rate, gradient norm, tokens/s, memory (process RSS, and CUDA
// allocated/reserved when the engine reports them), and the objective's own metrics
// (reward, KL, margins, accuracy ...; perplexity for SFT), one graph per name seen.
// Evaluation-suite metrics (`<suite>/<metric>`) carry their 95 % interval from the
// `suite` event as error bars on their points.
// Events are buffered; a timer replots at most four times a second and only when
// something arrived, so a fast run never replots once per step.
// Not here: storing metrics (train_page.h), the engine process (engine/).
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPErrorBars;
class QCPGraph;
class QTimer;

namespace ft::ui {

class TrainCharts : public QWidget {
    Q_OBJECT
public:
    explicit TrainCharts(QWidget* parent = nullptr);

    // Takes any event; step and eval points are buffered for the next replot.
    // A `started` event with start_step > 0 (a resumed run) drops points past it.
    void addEvent(const QJsonObject& event);
    void clear();
    // Points plotted so far in a series: "loss", "eval_loss", "lr", "grad_norm",
    // "tokens_per_second", "rss", "cuda_allocated", "cuda_reserved", and the objective
    // metrics as "train/<name>" and "eval/<name>" (e.g. "eval/perplexity"). -1: no such series.
    int pointCount(const QString& series) const;
    // The 95 % interval drawn at a point of a series as {low, high}; NaNs when the point
    // has none (not a suite metric, or its `suite` event did not come).
    QPair<double, double> interval(const QString& series, int index) const;
    QStringList seriesNames() const;
    int replotCount() const { return m_replots; }  // for tests of the throttle
    void setReplotInterval(int ms);

private:
    struct Series {
        QCPGraph* graph = nullptr;
        QCPErrorBars* bars = nullptr;  // suite metrics only: one entry per point of graph
        QVector<double> pendingKeys, pendingValues, pendingMinus, pendingPlus;
    };
    QCustomPlot* makePlot(const QString& objectName, const QString& title, const QString& yLabel);
    QCPGraph* addGraph(QCustomPlot* plot, const QString& series, const QString& label, const QColor& color,
                       bool dashed = false);
    void push(const QString& series, double step, double value);
    void pushInterval(Series& s, double value, double low, double high);
    void pushMetric(const QString& prefix, int step, const QJsonObject& metrics);
    void flush();
    void truncateAfter(double step);

    QCustomPlot* m_loss = nullptr;
    QCustomPlot* m_lr = nullptr;
    QCustomPlot* m_gradNorm = nullptr;
    QCustomPlot* m_tokens = nullptr;
    QCustomPlot* m_memory = nullptr;
    QCustomPlot* m_objective = nullptr;
    QHash<QString, Series> m_series;
    QHash<QString, QHash<int, QPair<double, double>>> m_intervals;  // "eval/<suite>/<metric>" -> step -> low, high
    QTimer* m_timer = nullptr;
    bool m_dirty = false;
    int m_replots = 0;
    int m_objectiveColors = 0;
};

} // namespace ft::ui
