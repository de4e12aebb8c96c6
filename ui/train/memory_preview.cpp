#include "train/memory_preview.h"

#include "train/memory_estimate.h"

#include <cmath>

namespace ft::ui {

QString formatCount(qint64 n) {
    const double v = double(n);
    if (std::abs(v) >= 1e9)
        return QString::number(v / 1e9, 'f', 2) + QStringLiteral(" B");
    if (std::abs(v) >= 1e6)
        return QString::number(v / 1e6, 'f', 2) + QStringLiteral(" M");
    if (std::abs(v) >= 1e3)
        return QString::number(v / 1e3, 'f', 1) + QStringLiteral(" K");
    return QString::number(n);
}

QString formatBytes(qint64 bytes) { return QString::fromStdString(ft::train::formatBytes(bytes)); }

MemoryPreview previewFromEstimate(const QJsonObject& e) {
    MemoryPreview p;
    const QJsonObject params = e.value(QStringLiteral("parameters")).toObject();
    const QJsonObject mem = e.value(QStringLiteral("memory_estimate")).toObject();
    if (params.isEmpty() || mem.isEmpty())
        return previewError(QStringLiteral("the engine's estimate has no figures"));
    p.ok = true;
    p.totalParameters = params.value(QStringLiteral("total")).toInteger();
    p.trainableParameters = params.value(QStringLiteral("trainable")).toInteger();
    p.weights = mem.value(QStringLiteral("weights")).toInteger();
    p.gradients = mem.value(QStringLiteral("gradients")).toInteger();
    p.optimizer = mem.value(QStringLiteral("optimizer")).toInteger();
    p.activations = mem.value(QStringLiteral("activations")).toInteger();
    p.total = mem.value(QStringLiteral("total")).toInteger();
    p.device = e.value(QStringLiteral("device")).toString();
    p.availableBytes = e.value(QStringLiteral("available_bytes")).toInteger();
    p.deviceTotalBytes = e.value(QStringLiteral("device_total_bytes")).toInteger();
    p.fits = e.value(QStringLiteral("fits")).toBool(true);
    return p;
}

MemoryPreview previewError(const QString& message) {
    MemoryPreview p;
    p.error = message;
    return p;
}

QString MemoryPreview::summaryHtml() const {
    if (!ok)
        return QStringLiteral("<i>%1</i>").arg(error.toHtmlEscaped());
    const double share = totalParameters > 0 ? 100.0 * double(trainableParameters) / double(totalParameters) : 0;
    QString html = QStringLiteral("Trainable parameters %1 of %2 (%3 %)<br>")
                       .arg(formatCount(trainableParameters), formatCount(totalParameters), QString::number(share, 'g', 3));
    html += QStringLiteral("Memory ≈ <b>%1</b> <span style='color:gray'>(weights %2, gradients %3, optimizer %4, "
                           "activations %5)</span>")
                .arg(formatBytes(total), formatBytes(weights), formatBytes(gradients), formatBytes(optimizer),
                     formatBytes(activations));
    const QString where = device.startsWith(QLatin1String("cuda"))
                              ? QStringLiteral("free on %1 (of %2)").arg(device, formatBytes(deviceTotalBytes))
                              : QStringLiteral("available");
    if (availableBytes > 0 && !fits)
        html += QStringLiteral("<br><span style='color:#c0392b'><b>Will not fit:</b> %1 %2. Lower the batch "
                               "size or sequence length, turn on gradient checkpointing, or use QLoRA.</span>")
                    .arg(formatBytes(availableBytes), where);
    else if (availableBytes > 0)
        html += QStringLiteral(" of %1 %2").arg(formatBytes(availableBytes), where);
    return html;
}

} // namespace ft::ui
