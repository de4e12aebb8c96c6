// The engine loop behind `ftstudio-cli train`: loads the base model and tokenizer,
// applies the technique, prepares the objective's data, then runs optimizer steps
// with accumulation, clipping and the schedule; emits events, evaluates, writes
// sample generations and checkpoints; obeys pause / resume / stop-and-save; resumes
// from the last complete checkpoint. Ends by writing the adapter (PEFT layout) or
// the full model, and trainer_state.json, into the output folder.
// Not here: parsing the config (run_config.h), the event format (events.h), the
// control channel (run_control.h), the objective's own math (sft_objective.h).
#pragma once

#include "dist/communicator.h"
#include "train/events.h"
#include "train/run_config.h"
#include "train/run_control.h"

#include <string>

namespace ft::engine {

struct TrainOutcome {
    std::string status;      // "finished" or "stopped" (stop-and-save)
    int64_t step = 0;        // optimizer steps done
    std::string outputPath;  // the adapter or model folder (finished), or the checkpoint (stopped)
};

// Errors (bad data, a model that does not load, out of memory) are thrown as
// ft::Error after an `error` event has been written.
// With a communicator of several processes the run is data-parallel (data_parallel.h):
// every rank calls this with the same config; rank 0 writes checkpoints, outputs and
// the files of the run, and the events that matter (give the others a discarding
// EventWriter).
TrainOutcome runTraining(const train::RunConfig& config, train::EventWriter& events, train::RunControl& control,
                         dist::Communicator* communicator = nullptr);

} // namespace ft::engine
