// Training checkpoints: everything a run needs to continue exactly where it stopped.
// One folder per checkpoint inside the run's output folder:
//   checkpoint-<step>/
//     adapter_model.safetensors  the trainable tensors, under the caller's names
//     optimizer.pt               the optimizer (libtorch archive) + the tensor layout
//     rng_state.safetensors      RNG states (rng_state.h)
//     trainer_state.json         step, epoch, data position, scheduler, metrics, extra
//     complete                   written last; a folder without it is never loaded
// A checkpoint is written into checkpoint-<step>.tmp-<pid>, every file fsynced, and
// renamed into place, so a crash (even SIGKILL) at any moment leaves the previous
// checkpoints loadable and never a half-written one under a final name.
// Not here: the exported adapter / model folder (the PEFT layout other tools read)
// and deciding when to save.
#pragma once

#include "train/optimizer.h"
#include "train/rng_state.h"

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ft::train {

struct TrainingState {
    int64_t step = 0;                 // optimizer updates completed; the folder's number
    double epoch = 0;                 // fractional epochs completed
    nlohmann::json dataPosition;      // the data loader's own description of where it is
    nlohmann::json scheduler;         // e.g. schedule name, warmup, total steps, peak lr
    nlohmann::json metricsHistory;    // log history (an array of per-step records)
    RngState rng;                     // loadCheckpoint returns it; restoreRngState applies it
    nlohmann::json extra;             // anything else the caller wants back
};

// The folder name for `step`: "checkpoint-<step>".
std::string checkpointFolderName(int64_t step);

// Writes outputDir/checkpoint-<state.step> (outputDir is created if needed) and returns
// its path. An existing checkpoint of the same step is replaced atomically. Stale
// temporary folders of dead processes are removed first. On failure nothing under a
// final name changes and ft::Error says what failed.
std::string saveCheckpoint(const std::string& outputDir, const TrainingState& state, const NamedTensors& trainable,
                           torch::optim::Optimizer& optimizer);

// The complete checkpoint with the highest step, or nullopt. Folders without the
// "complete" marker and temporary folders are ignored; temporary folders whose
// writer process is gone are deleted.
std::optional<std::string> latestCheckpoint(const std::string& outputDir);

// Complete checkpoints in outputDir, by increasing step.
std::vector<std::pair<int64_t, std::string>> listCheckpoints(const std::string& outputDir);

// Copies the saved tensors into `trainable` (every name and shape is checked, all
// problems reported in one ft::Error naming the file, the tensor and both shapes) and
// the optimizer state into `optimizer`, which must have been built the same way
// (same groups, same tensors in the same order: checked by name and shape). The
// optimizer's hyper-parameters come from the caller, not from the checkpoint.
// The RNG state is returned in TrainingState::rng, not applied.
TrainingState loadCheckpoint(const std::string& path, const NamedTensors& trainable,
                             torch::optim::Optimizer& optimizer);

// Deletes all but the `keepLast` newest complete checkpoints (keepLast <= 0 keeps all);
// returns the deleted paths. Each is renamed away before it is deleted, so an
// interrupted deletion never leaves a partial folder under a checkpoint name.
std::vector<std::string> pruneCheckpoints(const std::string& outputDir, int keepLast);

} // namespace ft::train
