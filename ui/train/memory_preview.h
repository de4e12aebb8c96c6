// The estimate shown before a run starts: parameters that will train and the memory
// the run needs at the chosen batch and sequence length (the engine's own formula,
// core/train/memory_estimate.h, torch-free), against the memory this machine has.
// Trainable parameters are counted from the model's shapes and the technique's
// settings without loading the model, so they are approximate (regular-expression
// targets fall back to the technique's defaults); the exact figures arrive with the
// run's `started` event. Not here: the widgets that show it (train_page.h).
#pragma once

#include <QJsonObject>
#include <QString>

namespace ft::ui {

struct MemoryPreview {
    bool ok = false;
    QString error;                // why there is no estimate (no model folder, unreadable config.json)
    qint64 totalParameters = 0;   // base model plus the adapter
    qint64 trainableParameters = 0;
    bool approximate = true;      // trainable count guessed (a regular expression target, say)
    qint64 weights = 0, gradients = 0, optimizer = 0, activations = 0, total = 0;  // bytes
    qint64 availableBytes = 0;    // host memory available now (MemAvailable, cgroup limit); 0: unknown
    bool onGpu = false;           // the device is (or, auto, may be) CUDA: host memory is not the limit
    bool fits = true;             // total within what is available (always true when unknown)

    QString summaryHtml() const;  // one or two lines for the page, with a warning when it will not fit
};

// `config` is a whole run config (technique, training ... as the form gives them).
MemoryPreview previewMemory(const QString& modelDir, const QJsonObject& config);

// "1.2 M", "294.9 K", "812"
QString formatCount(qint64 n);
// "71.2 MiB"
QString formatBytes(qint64 bytes);
// Host memory available to this process now, in bytes (0: unknown).
qint64 availableHostMemory();

} // namespace ft::ui
