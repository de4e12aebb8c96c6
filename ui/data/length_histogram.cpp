#include "data/length_histogram.h"

#include "app/session.h"
#include "app/studio_paths.h"
#include "engine/cli_job.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <algorithm>

namespace ft::ui {

namespace {

QString modelFolder(const Session* session) {
    if (!session->modelDir().isEmpty())
        return session->modelDir();
    return isBaseModelFolder(defaultBaseModelDir()) ? defaultBaseModelDir() : QString();
}

// QCPItemText does not wrap: break a message into lines of about `width` characters.
QString wrapped(const QString& text, int width = 46) {
    QStringList lines{QString()};
    for (const QString& word : text.split(' ', Qt::SkipEmptyParts)) {
        if (!lines.back().isEmpty() && lines.back().size() + 1 + word.size() > width)
            lines << QString();
        lines.back() += (lines.back().isEmpty() ? QString() : QStringLiteral(" ")) + word;
    }
    return lines.join('\n');
}

} // namespace

LengthHistogram::LengthHistogram(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* top = new QHBoxLayout;
    auto* title = new QLabel(tr("Token lengths"), this);
    QFont bold = title->font();
    bold.setBold(true);
    title->setFont(bold);
    m_button = new QPushButton(tr("Token lengths"), this);
    m_button->setObjectName(QStringLiteral("tokenLengthsButton"));
    m_button->setToolTip(tr("Tokenize every row of this dataset with the current model's tokenizer "
                            "(runs in the engine, off the GUI)"));
    top->addWidget(title, 1);
    top->addWidget(m_button);
    m_plot = new QCustomPlot(this);
    m_plot->setObjectName(QStringLiteral("lengthHistogram"));
    m_plot->setMinimumHeight(160);
    m_plot->xAxis->setLabel(tr("tokens per row"));
    m_plot->yAxis->setLabel(tr("rows"));
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("lengthSummary"));
    m_summary->setWordWrap(true);
    layout->addLayout(top);
    layout->addWidget(m_plot, 1);
    layout->addWidget(m_summary);

    m_job = new CliJob(this);
    connect(m_button, &QPushButton::clicked, this, [this] {
        if (isRunning())
            m_job->cancel();
        else
            compute();
    });
    connect(m_job, &CliJob::finished, this, [this](bool ok, const QString& message) {
        m_button->setText(tr("Token lengths"));
        QString error = message;
        if (ok && !showStats(m_job->allOutput().toUtf8(), &error))
            ok = false;
        if (!ok)
            clearChart(message == QStringLiteral("cancelled") ? tr("Cancelled.") : tr("Could not measure: %1").arg(error));
        emit computed(ok);
    });
    clearChart(tr("Press “Token lengths” to measure the rows with the current model's tokenizer."));
}

void LengthHistogram::setDataset(const QString& name) {
    if (name == m_dataset)
        return;
    m_dataset = name;
    if (isRunning())
        m_job->cancel();
    clearChart(tr("Press “Token lengths” to measure the rows with the current model's tokenizer."));
}

bool LengthHistogram::isRunning() const { return m_job->isRunning(); }
QString LengthHistogram::summary() const { return m_message.isEmpty() ? m_summary->text() : m_message; }

void LengthHistogram::compute() {
    const QString model = modelFolder(m_session);
    if (!m_session->hasProject() || m_dataset.isEmpty()) {
        clearChart(tr("Open a project and choose a dataset first."));
        emit computed(false);
        return;
    }
    if (model.isEmpty()) {
        clearChart(tr("No model to measure with: choose a base model on the Model page first."));
        emit computed(false);
        return;
    }
    clearChart(tr("Measuring with %1…").arg(QFileInfo(model).fileName()));
    m_button->setText(tr("Cancel"));
    m_job->start({QStringLiteral("data"), QStringLiteral("stats"), QStringLiteral("--project"), m_session->projectPath(),
                  QStringLiteral("--dataset"), m_dataset, QStringLiteral("--model"), model, QStringLiteral("--json")});
}

void LengthHistogram::clearChart(const QString& message) {
    m_plot->clearPlottables();
    m_plot->clearItems();
    // No empty 0..1 axes: just the message where the bars will be.
    m_plot->xAxis->setVisible(false);
    m_plot->yAxis->setVisible(false);
    auto* text = new QCPItemText(m_plot);
    text->position->setType(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(0.5, 0.5);
    text->setText(wrapped(message));
    text->setColor(QColor(0x70, 0x70, 0x70));
    m_plot->replot();
    m_summary->clear();
    m_message = message;
}

bool LengthHistogram::showStats(const QByteArray& json, QString* error) {
    QJsonParseError parseError;
    const QJsonObject root = QJsonDocument::fromJson(json, &parseError).object();
    const QJsonObject t = root.value(QStringLiteral("tokens")).toObject();
    if (parseError.error != QJsonParseError::NoError || t.isEmpty()) {
        if (error)
            *error = tr("the engine's stats hold no token lengths (%1)")
                         .arg(parseError.error != QJsonParseError::NoError ? parseError.errorString() : tr("no \"tokens\""));
        return false;
    }
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_plot->xAxis->setVisible(true);
    m_plot->yAxis->setVisible(true);
    m_message.clear();
    auto* bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    bars->setPen(QPen(QColor(0x2f, 0x6f, 0xb3)));
    bars->setBrush(QColor(0x4a, 0x90, 0xd9, 170));
    const double maxLength = t.value(QStringLiteral("max_length")).toDouble();
    const double longest = t.value(QStringLiteral("max")).toDouble();
    double top = 0, right = 0;
    const QJsonObject hist = t.value(QStringLiteral("histogram")).toObject();
    if (!hist.isEmpty()) {
        // A true histogram: bin i covers [i * width, (i + 1) * width) tokens.
        const double width = std::max(1.0, hist.value(QStringLiteral("bin_width")).toDouble());
        const QJsonArray counts = hist.value(QStringLiteral("counts")).toArray();
        QVector<double> keys, values;
        for (int i = 0; i < counts.size(); ++i) {
            keys << (i + 0.5) * width;
            values << counts[i].toDouble();
            top = std::max(top, counts[i].toDouble());
        }
        bars->setWidth(width * 0.9);
        bars->setData(keys, values);
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        m_plot->xAxis->setLabel(tr("tokens per row"));
        m_plot->yAxis->setLabel(tr("rows"));
        right = counts.size() * width;
        if (maxLength > 0 && maxLength <= right * 1.5) {
            auto* limit = new QCPItemStraightLine(m_plot);
            limit->point1->setCoords(maxLength, 0);
            limit->point2->setCoords(maxLength, 1);
            limit->setPen(QPen(QColor(0xc0, 0x30, 0x30), 1.5, Qt::DashLine));
            right = std::max(right, maxLength * 1.05);
        }
        m_plot->xAxis->setRange(0, right);
    } else {
        // The engine reports the distribution's summary: one bar per statistic.
        const QStringList names{QStringLiteral("min"), QStringLiteral("median"), QStringLiteral("mean"),
                                QStringLiteral("p95"), QStringLiteral("max")};
        QVector<double> keys, values;
        auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
        for (int i = 0; i < names.size(); ++i) {
            keys << i + 1;
            values << t.value(names[i]).toDouble();
            top = std::max(top, values.back());
            ticker->addTick(i + 1, names[i]);
        }
        bars->setWidth(0.6);
        bars->setData(keys, values);
        m_plot->xAxis->setTicker(ticker);
        m_plot->xAxis->setLabel(QString());
        m_plot->yAxis->setLabel(tr("tokens"));
        m_plot->xAxis->setRange(0.4, names.size() + 0.6);
        if (maxLength > 0 && maxLength <= std::max(1.0, longest) * 1.5) {
            auto* limit = new QCPItemStraightLine(m_plot);
            limit->point1->setCoords(0, maxLength);
            limit->point2->setCoords(1, maxLength);
            limit->setPen(QPen(QColor(0xc0, 0x30, 0x30), 1.5, Qt::DashLine));
            top = std::max(top, maxLength);
        }
    }
    m_plot->yAxis->setRange(0, std::max(1.0, top * 1.15));
    m_plot->replot();
    const int over = t.value(QStringLiteral("over_max")).toInt();
    QString line = tr("%1 rows · median %2 · p95 %3 · max %4 tokens (mean %5)")
                       .arg(t.value(QStringLiteral("count")).toInteger())
                       .arg(t.value(QStringLiteral("median")).toInteger())
                       .arg(t.value(QStringLiteral("p95")).toInteger())
                       .arg(t.value(QStringLiteral("max")).toInteger())
                       .arg(t.value(QStringLiteral("mean")).toDouble(), 0, 'f', 1);
    line += over > 0 ? tr(" · <b>%1 rows longer than the context (%2)</b> will be truncated").arg(over).arg(maxLength)
                     : tr(" · all fit the context of %1").arg(maxLength);
    m_summary->setText(line);
    return true;
}

} // namespace ft::ui
