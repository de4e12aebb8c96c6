#include "train/memory_preview.h"

#include "train/memory_estimate.h"

#include <algorithm>
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
    const QJsonObject parallel = e.value(QStringLiteral("parallel")).toObject();
    p.processes = std::max<qint64>(1, parallel.value(QStringLiteral("processes")).toInteger(1));
    p.parallelDevices = std::max<qint64>(1, parallel.value(QStringLiteral("devices")).toInteger(1));
    p.parallelUnit = parallel.value(QStringLiteral("unit")).toString();
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
    const bool cuda = device.startsWith(QLatin1String("cuda"));
    if (processes > 1)
        html += cuda ? QStringLiteral(" per process (one GPU each)")
                     : QStringLiteral(" per process, %1 for the %2 processes").arg(formatBytes(total * processes))
                           .arg(processes);
    if (processes > parallelDevices)
        html += QStringLiteral("<br><span style='color:#c0392b'>%1 processes on %2 %3: they will share them.</span>")
                    .arg(processes)
                    .arg(parallelDevices)
                    .arg(parallelUnit);
    const QString where = cuda
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

QString MemoryPreview::processesHint() const {
    if (!ok)
        return QStringLiteral("Data-parallel processes on this machine (see the estimate).");
    if (parallelDevices <= 1)
        return QStringLiteral("Off: this machine has one %1, so a second process would only share it. "
                              "(torchrun or srun can still start ranks on several machines.)")
            .arg(parallelUnit == QLatin1String("CUDA devices") ? QStringLiteral("CUDA device")
                                                                : QStringLiteral("CPU core"));
    return QStringLiteral("Data-parallel processes on this machine: up to %1, one per %2 (%3 here). Each reads "
                          "1/N of every epoch; training.batch_size is per process.")
        .arg(parallelDevices)
        .arg(parallelUnit == QLatin1String("CUDA devices") ? QStringLiteral("CUDA device") : QStringLiteral("CPU core"))
        .arg(parallelUnit);
}

} // namespace ft::ui
