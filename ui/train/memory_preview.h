// The estimate shown before a run starts, as the engine computes it:
// `ftstudio-cli train --estimate --json` (core/train/run_estimate.h) reads the model's
// config.json and the technique's own parameter count, and measures the memory the
// chosen device has now (the GPU's free memory on CUDA). The page runs it in a child
// process after each edit; the exact figures of the loaded model arrive with the
// run's `started` event. Not here: the widgets that show it (train_setup.h).
#pragma once

#include <QJsonObject>
#include <QString>

namespace ft::ui {

struct MemoryPreview {
    bool ok = false;
    QString error;                // why there is no estimate (the engine's message)
    qint64 totalParameters = 0;   // base model plus the adapter
    qint64 trainableParameters = 0;
    qint64 weights = 0, gradients = 0, optimizer = 0, activations = 0, total = 0;  // bytes
    QString device;               // "cpu", "cuda:0"
    qint64 availableBytes = 0;    // host memory available, or the GPU's free memory; 0: unknown
    qint64 deviceTotalBytes = 0;  // the GPU's memory (CUDA)
    bool fits = true;             // total within what is available (always true when unknown)
    qint64 processes = 1;         // distributed.processes: the figures above are per process
    qint64 parallelDevices = 1;   // CUDA devices, or CPU cores, processes can run on
    QString parallelUnit;         // "CUDA devices" | "CPU cores"

    QString summaryHtml() const;  // one or two lines for the page, with a warning when it will not fit
    // Why the "processes" setting is off (one device only), or how far it goes: its tooltip.
    QString processesHint() const;
    bool processesUseful() const { return ok && parallelDevices > 1; }
};

// From the JSON `train --estimate --json` prints.
MemoryPreview previewFromEstimate(const QJsonObject& estimate);
MemoryPreview previewError(const QString& message);

// "1.2 M", "294.9 K", "812"
QString formatCount(qint64 n);
// "71.2 MiB"
QString formatBytes(qint64 bytes);

} // namespace ft::ui
