#include "train/train_charts.h"

#include <QGridLayout>
#include <QJsonValue>
#include <QTimer>

#include <qcustomplot.h>

#include <cmath>
#include <limits>

namespace ft::ui {

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

const QColor kPalette[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
                           QColor(214, 39, 40),  QColor(148, 103, 189), QColor(140, 86, 75),
                           QColor(227, 119, 194), QColor(127, 127, 127), QColor(188, 189, 34),
                           QColor(23, 190, 207)};

bool finiteNumber(const QJsonValue& v) { return v.isDouble() && std::isfinite(v.toDouble()); }

} // namespace

TrainCharts::TrainCharts(QWidget* parent) : QWidget(parent) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(4);
    m_loss = makePlot(QStringLiteral("lossPlot"), QStringLiteral("Loss"), QStringLiteral("loss"));
    m_lr = makePlot(QStringLiteral("lrPlot"), QStringLiteral("Learning rate"), QStringLiteral("lr"));
    m_gradNorm = makePlot(QStringLiteral("gradNormPlot"), QStringLiteral("Gradient norm"), QStringLiteral("norm"));
    m_tokens = makePlot(QStringLiteral("tokensPlot"), QStringLiteral("Throughput"), QStringLiteral("tokens/s"));
    m_memory = makePlot(QStringLiteral("memoryPlot"), QStringLiteral("Memory"), QStringLiteral("MiB"));
    m_objective = makePlot(QStringLiteral("objectivePlot"), QStringLiteral("Objective metrics"), QString());
    grid->addWidget(m_loss, 0, 0);
    grid->addWidget(m_lr, 0, 1);
    grid->addWidget(m_gradNorm, 0, 2);
    grid->addWidget(m_tokens, 1, 0);
    grid->addWidget(m_memory, 1, 1);
    grid->addWidget(m_objective, 1, 2);

    addGraph(m_loss, QStringLiteral("loss"), QStringLiteral("train"), kPalette[0]);
    QCPGraph* eval = addGraph(m_loss, QStringLiteral("eval_loss"), QStringLiteral("eval"), kPalette[1]);
    eval->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    addGraph(m_lr, QStringLiteral("lr"), QStringLiteral("lr"), kPalette[2]);
    m_lr->yAxis->setNumberFormat(QStringLiteral("gb"));
    m_lr->yAxis->setNumberPrecision(2);
    addGraph(m_gradNorm, QStringLiteral("grad_norm"), QStringLiteral("norm"), kPalette[3]);
    addGraph(m_tokens, QStringLiteral("tokens_per_second"), QStringLiteral("tokens/s"), kPalette[4]);
    addGraph(m_memory, QStringLiteral("rss"), QStringLiteral("RSS"), kPalette[5]);
    m_loss->legend->setVisible(true);
    m_memory->legend->setVisible(true);

    m_timer = new QTimer(this);
    m_timer->setInterval(250);
    connect(m_timer, &QTimer::timeout, this, &TrainCharts::flush);
    m_timer->start();
}

QCustomPlot* TrainCharts::makePlot(const QString& objectName, const QString& title, const QString& yLabel) {
    auto* plot = new QCustomPlot(this);
    plot->setObjectName(objectName);
    plot->setMinimumSize(180, 140);
    plot->setNoAntialiasingOnDrag(true);
    // Solid lines as segments rather than one polyline: a noisy curve (tokens/s, loss) of
    // 600 steps crosses itself at every step, and Qt's raster engine took 415 ms to stroke
    // it as one antialiased polyline, 4 ms as segments (issue 25: the event loop while a
    // run streams; test_gui_train eventLoopKeepsTurningWhileARunStreams).
    plot->setPlottingHint(QCP::phFastPolylines, true);
    QFont small = font();
    small.setPointSizeF(std::max(6.5, small.pointSizeF() - 1.5));
    plot->plotLayout()->insertRow(0);
    auto* heading = new QCPTextElement(plot, title, QFont(small.family(), int(small.pointSizeF() + 1), QFont::Bold));
    plot->plotLayout()->addElement(0, 0, heading);
    plot->plotLayout()->setRowSpacing(0);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        axis->setTickLabelFont(small);
        axis->setLabelFont(small);
        axis->setPadding(2);
        axis->setLabelPadding(2);
        axis->ticker()->setTickCount(4);
    }
    plot->xAxis->setLabel(QStringLiteral("step"));
    plot->yAxis->setLabel(yLabel);
    plot->legend->setFont(small);
    plot->legend->setRowSpacing(-3);
    plot->legend->setBrush(QColor(255, 255, 255, 200));
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot->xAxis->setRange(0, 10);
    plot->yAxis->setRange(0, 1);
    return plot;
}

QCPGraph* TrainCharts::addGraph(QCustomPlot* plot, const QString& series, const QString& label, const QColor& color,
                                bool dashed) {
    QCPGraph* g = plot->addGraph();
    g->setName(label);
    QPen pen(color, 1.5);
    if (dashed)
        pen.setStyle(Qt::DashLine);
    g->setPen(pen);
    m_series[series].graph = g;
    return g;
}

void TrainCharts::setReplotInterval(int ms) { m_timer->setInterval(ms); }

void TrainCharts::push(const QString& series, double step, double value) {
    auto it = m_series.find(series);
    if (it == m_series.end())
        return;
    it->pendingKeys.append(step);
    it->pendingValues.append(value);
    m_dirty = true;
}

void TrainCharts::pushMetric(const QString& prefix, int step, const QJsonObject& metrics) {
    for (auto it = metrics.begin(); it != metrics.end(); ++it) {
        if (!finiteNumber(*it) || it.key() == QLatin1String("tokens"))  // a count, not a metric to follow
            continue;
        const QString series = prefix + it.key();
        if (!m_series.contains(series)) {
            const QColor color = kPalette[m_objectiveColors++ % std::size(kPalette)];
            QCPGraph* g = addGraph(m_objective, series, series, color, prefix.startsWith(QLatin1String("train")));
            if (prefix.startsWith(QLatin1String("eval")))
                g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
            m_objective->legend->setVisible(true);
        }
        push(series, step, it->toDouble());
        // A suite metric: its interval came in the `suite` event just before.
        auto intervals = m_intervals.find(series);
        if (intervals != m_intervals.end() && intervals->contains(step)) {
            const QPair<double, double> lowHigh = intervals->take(step);
            pushInterval(m_series[series], it->toDouble(), lowHigh.first, lowHigh.second);
        } else if (m_series[series].bars) {
            constexpr double nan = std::numeric_limits<double>::quiet_NaN();
            pushInterval(m_series[series], it->toDouble(), nan, nan);
        }
    }
}

void TrainCharts::pushInterval(Series& s, double value, double low, double high) {
    if (!s.bars) {  // the first interval of this series: earlier points have none
        s.bars = new QCPErrorBars(s.graph->keyAxis(), s.graph->valueAxis());
        s.bars->removeFromLegend();
        s.bars->setDataPlottable(s.graph);
        s.bars->setPen(QPen(s.graph->pen().color(), 1.0));
        s.bars->setWhiskerWidth(5);
        constexpr double nan = std::numeric_limits<double>::quiet_NaN();
        const int drawn = s.graph->dataCount();
        s.bars->data()->clear();
        if (drawn > 0)
            s.bars->addData(QVector<double>(drawn, nan), QVector<double>(drawn, nan));
        const qsizetype waiting = s.pendingKeys.size() - 1;  // all but the point this interval belongs to
        s.pendingMinus = QVector<double>(waiting, nan);
        s.pendingPlus = QVector<double>(waiting, nan);
    }
    s.pendingMinus.append(std::isfinite(low) ? std::max(0.0, value - low) : low);
    s.pendingPlus.append(std::isfinite(high) ? std::max(0.0, high - value) : high);
}

void TrainCharts::addEvent(const QJsonObject& e) {
    const QString type = e.value(QStringLiteral("event")).toString();
    const int step = e.value(QStringLiteral("step")).toInt();
    if (type == QLatin1String("started")) {
        const int start = e.value(QStringLiteral("start_step")).toInt();
        truncateAfter(start);
    } else if (type == QLatin1String("step")) {
        for (const char* name : {"loss", "lr", "grad_norm", "tokens_per_second"})
            if (const QJsonValue v = e.value(QLatin1String(name)); finiteNumber(v))
                push(QLatin1String(name), step, v.toDouble());
        const QJsonObject mem = e.value(QStringLiteral("memory")).toObject();
        if (finiteNumber(mem.value(QStringLiteral("rss_bytes"))))
            push(QStringLiteral("rss"), step, mem.value(QStringLiteral("rss_bytes")).toDouble() / kMiB);
        const struct { const char* key; const char* label; } cuda[] = {{"cuda_allocated", "CUDA allocated"},
                                                                       {"cuda_reserved", "CUDA reserved"}};
        for (const auto& c : cuda) {
            const QJsonValue v = mem.value(QLatin1String(c.key));
            if (!finiteNumber(v))
                continue;
            if (!m_series.contains(QLatin1String(c.key)))
                addGraph(m_memory, QLatin1String(c.key), QLatin1String(c.label),
                         kPalette[m_series.size() % std::size(kPalette)], true);
            push(QLatin1String(c.key), step, v.toDouble() / kMiB);
        }
        pushMetric(QStringLiteral("train/"), step, e.value(QStringLiteral("metrics")).toObject());
    } else if (type == QLatin1String("suite")) {
        const QString prefix = QStringLiteral("eval/") + e.value(QStringLiteral("suite")).toString() + '/';
        for (const QJsonValue& m : e.value(QStringLiteral("metrics")).toArray()) {
            const QJsonObject metric = m.toObject();
            const QJsonValue low = metric.value(QStringLiteral("low")), high = metric.value(QStringLiteral("high"));
            if (finiteNumber(low) && finiteNumber(high))
                m_intervals[prefix + metric.value(QStringLiteral("name")).toString()].insert(
                    step, {low.toDouble(), high.toDouble()});
        }
    } else if (type == QLatin1String("eval")) {
        if (const QJsonValue v = e.value(QStringLiteral("loss")); finiteNumber(v))
            push(QStringLiteral("eval_loss"), step, v.toDouble());
        QJsonObject metrics = e.value(QStringLiteral("metrics")).toObject();
        if (const QJsonValue p = e.value(QStringLiteral("perplexity")); finiteNumber(p))
            metrics.insert(QStringLiteral("perplexity"), p);
        pushMetric(QStringLiteral("eval/"), step, metrics);
    }
}

void TrainCharts::truncateAfter(double step) {
    for (Series& s : m_series) {
        s.graph->data()->removeAfter(step + 0.5);
        s.pendingKeys.clear();
        s.pendingValues.clear();
        s.pendingMinus.clear();
        s.pendingPlus.clear();
        if (s.bars)
            s.bars->data()->resize(s.graph->dataCount());
    }
    m_intervals.clear();
    m_dirty = true;
}

void TrainCharts::flush() {
    if (!m_dirty)
        return;
    m_dirty = false;
    for (Series& s : m_series) {
        if (s.pendingKeys.isEmpty())
            continue;
        s.graph->addData(s.pendingKeys, s.pendingValues);
        if (s.bars)
            s.bars->addData(s.pendingMinus, s.pendingPlus);
        s.pendingKeys.clear();
        s.pendingValues.clear();
        s.pendingMinus.clear();
        s.pendingPlus.clear();
    }
    // One step range for every chart, so that the curves line up.
    double xLow = 0, xHigh = 1;
    bool anyData = false;
    for (const Series& s : m_series) {
        if (s.graph->data()->isEmpty())
            continue;
        bool found = false;
        const QCPRange keys = s.graph->data()->keyRange(found);
        if (!found)
            continue;
        xLow = anyData ? std::min(xLow, keys.lower) : keys.lower;
        xHigh = anyData ? std::max(xHigh, keys.upper) : std::max(keys.upper, keys.lower + 1);
        anyData = true;
    }
    for (QCustomPlot* plot : {m_loss, m_lr, m_gradNorm, m_tokens, m_memory, m_objective}) {
        bool any = false;
        for (int i = 0; i < plot->graphCount(); ++i)
            any = any || !plot->graph(i)->data()->isEmpty();
        if (!any)
            continue;
        plot->rescaleAxes();
        QCPRange y = plot->yAxis->range();
        if (plot == m_lr && y.lower > 0)
            y.lower = 0;  // the schedule reads best against zero
        const double pad = y.size() > 0 ? y.size() * 0.08 : std::max(1e-12, std::abs(y.upper) * 0.1 + 1e-12);
        plot->yAxis->setRange(y.lower - (plot == m_lr ? 0 : pad), y.upper + pad);
        const double xPad = (xHigh - xLow) * 0.02;  // points on the first and last step stay whole
        plot->xAxis->setRange(xLow - xPad, xHigh + xPad);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    ++m_replots;
}

void TrainCharts::clear() {
    for (Series& s : m_series) {
        s.graph->data()->clear();
        if (s.bars)
            s.bars->data()->clear();
        s.pendingKeys.clear();
        s.pendingValues.clear();
        s.pendingMinus.clear();
        s.pendingPlus.clear();
    }
    m_intervals.clear();
    // Objective and CUDA graphs belong to one run: drop them.
    for (auto it = m_series.begin(); it != m_series.end();) {
        QCustomPlot* plot = it->graph->parentPlot();
        if (plot == m_objective || it.key().startsWith(QLatin1String("cuda_"))) {
            if (it->bars)
                plot->removePlottable(it->bars);
            plot->removeGraph(it->graph);
            it = m_series.erase(it);
        } else {
            ++it;
        }
    }
    m_objective->legend->setVisible(false);
    m_objectiveColors = 0;
    for (QCustomPlot* plot : {m_loss, m_lr, m_gradNorm, m_tokens, m_memory, m_objective}) {
        plot->xAxis->setRange(0, 10);
        plot->yAxis->setRange(0, 1);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    m_dirty = false;
}

int TrainCharts::pointCount(const QString& series) const {
    auto it = m_series.find(series);
    return it == m_series.end() ? -1 : it->graph->dataCount();
}

QPair<double, double> TrainCharts::interval(const QString& series, int index) const {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    auto it = m_series.find(series);
    if (it == m_series.end() || !it->bars || index < 0 || index >= it->bars->dataCount() ||
        index >= it->graph->dataCount())
        return {nan, nan};
    const QCPErrorBarsData e = it->bars->data()->at(index);
    const double value = (it->graph->data()->constBegin() + index)->value;
    return {value - e.errorMinus, value + e.errorPlus};
}

QStringList TrainCharts::seriesNames() const {
    QStringList out = m_series.keys();
    out.sort();
    return out;
}

} // namespace ft::ui
