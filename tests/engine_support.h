// Running the training engine in process from a JSON config and reading back its
// event stream: shared by the engine tests (SFT, alignment objectives).
#pragma once

#include "train/events.h"
#include "train/run_config.h"
#include "train/run_control.h"
#include "engine/trainer.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace fttest {

inline std::vector<nlohmann::json> readEvents(const std::string& path)
{
    std::vector<nlohmann::json> events;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line))
        events.push_back(nlohmann::json::parse(line));
    return events;
}

// The events of one type, in order.
inline std::vector<nlohmann::json> eventsOf(const std::vector<nlohmann::json>& events, const std::string& type)
{
    std::vector<nlohmann::json> out;
    for (const auto& e : events)
        if (e["event"] == type)
            out.push_back(e);
    return out;
}

inline std::vector<double> stepLosses(const std::vector<nlohmann::json>& events)
{
    std::vector<double> losses;
    for (const auto& e : eventsOf(events, "step"))
        losses.push_back(e["loss"].get<double>());
    return losses;
}

inline std::vector<double> evalLosses(const std::vector<nlohmann::json>& events)
{
    std::vector<double> losses;
    for (const auto& e : eventsOf(events, "eval"))
        losses.push_back(e["loss"].get<double>());
    return losses;
}

// Runs a config in process; events go to <output_dir>.events.jsonl (appended, so a
// resumed run's file holds both halves).
inline ft::engine::TrainOutcome runEngine(
    const nlohmann::json& config, std::vector<nlohmann::json>* events = nullptr,
    const std::function<void(const nlohmann::json&, ft::train::RunControl&)>& onEvent = {})
{
    const std::string eventsPath = config["output_dir"].get<std::string>() + ".events.jsonl";
    ft::train::RunConfig c = ft::train::parseRunConfig(config, "test config");
    ft::train::EventWriter writer(eventsPath, /*append=*/true);
    ft::train::RunControl control;
    if (onEvent)
        writer.setListener([&](const nlohmann::json& e) { onEvent(e, control); });
    auto outcome = ft::engine::runTraining(c, writer, control);
    if (events)
        *events = readEvents(eventsPath);
    return outcome;
}

} // namespace fttest
