#include "train/checkpoint.h"

#include "io/json_file.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "model/model_io.h"
#include "util/error.h"
#include "util/text.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace fs = std::filesystem;

namespace ft::train {

namespace {

constexpr const char* kTensorsFile = "adapter_model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.pt";
constexpr const char* kRngFile = "rng_state.safetensors";
constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kCompleteFile = "complete";
constexpr const char* kPrefix = "checkpoint-";

// Fault injection for packaging/chaos.sh: FTSTUDIO_CHAOS_CHECKPOINT_PAUSE_MS=N sleeps N ms
// after each file of a checkpoint is written, so that a SIGKILL can be aimed at the
// middle of a write (a small adapter's write is otherwise over in a millisecond). Unset:
// nothing happens. It changes no data, only timing.
void chaosPause()
{
    static const long ms = [] {
        const char* v = std::getenv("FTSTUDIO_CHAOS_CHECKPOINT_PAUSE_MS");
        return v ? std::strtol(v, nullptr, 10) : 0L;
    }();
    if (ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// fsync a file or a folder so that what was written (or renamed into it) survives a crash.
void syncPath(const std::string& path, bool directory)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0)
        fail("cannot open " + path + " to flush it to disk: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        fail("cannot flush " + path + " to disk: " + std::strerror(err));
}

// Digits only, no sign, no overflow; -1 otherwise.
int64_t parseNumber(std::string_view s)
{
    if (s.empty() || s.size() > 18)
        return -1;
    int64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    return v;
}

// "checkpoint-12" -> 12; anything else -> -1.
int64_t checkpointStep(const std::string& name)
{
    if (name.rfind(kPrefix, 0) != 0)
        return -1;
    return parseNumber(std::string_view(name).substr(std::strlen(kPrefix)));
}

// "checkpoint-12.tmp-345" or "checkpoint-12.old-345" -> 345; anything else -> -1.
int64_t scratchOwner(const std::string& name)
{
    if (name.rfind(kPrefix, 0) != 0)
        return -1;
    const size_t start = std::strlen(kPrefix), dot = name.find('.');
    if (dot == std::string::npos || parseNumber(std::string_view(name).substr(start, dot - start)) < 0)
        return -1;
    const std::string_view rest = std::string_view(name).substr(dot + 1);
    for (std::string_view tag : {"tmp-", "old-"})
        if (rest.substr(0, tag.size()) == tag)
            return parseNumber(rest.substr(tag.size()));
    return -1;
}

bool processAlive(int64_t pid)
{
    if (pid <= 0)
        return false;
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

void removeStaleScratch(const std::string& outputDir)
{
    std::error_code ec;
    if (!fs::is_directory(outputDir, ec))
        return;
    for (const auto& entry : fs::directory_iterator(outputDir, ec)) {
        const int64_t owner = scratchOwner(entry.path().filename().string());
        if (owner < 0 || owner == ::getpid() || processAlive(owner))
            continue;
        std::error_code removeError;
        fs::remove_all(entry.path(), removeError);  // best effort: it is ignored anyway
    }
}

io::DType storageType(const std::string& name, c10::ScalarType t)
{
    if (t == at::kDouble)
        return io::DType::F64;
    try {
        return model::toSafetensorsDType(t);
    } catch (const Error&) {
        fail("trainable tensor '" + name + "' has dtype " + c10::toString(t) + ", which a checkpoint cannot store");
    }
}

// Each optimizer group's tensors by name and shape, in the optimizer's order.
nlohmann::json optimizerLayout(const torch::optim::Optimizer& optimizer, const NamedTensors& trainable)
{
    std::unordered_map<const void*, const std::string*> names;
    for (const auto& [name, tensor] : trainable)
        names.emplace(tensor.unsafeGetTensorImpl(), &name);
    nlohmann::json groups = nlohmann::json::array();
    for (size_t g = 0; g < optimizer.param_groups().size(); ++g) {
        nlohmann::json group = nlohmann::json::array();
        const auto& params = optimizer.param_groups()[g].params();
        for (size_t i = 0; i < params.size(); ++i) {
            auto it = names.find(params[i].unsafeGetTensorImpl());
            if (it == names.end())
                fail("the optimizer's group " + std::to_string(g) + " tensor " + std::to_string(i) + " (shape " +
                     util::shapeString(params[i].sizes()) + ") is not among the trainable tensors given to the checkpoint");
            group.push_back({{"name", *it->second}, {"shape", params[i].sizes().vec()}});
        }
        groups.push_back(std::move(group));
    }
    return groups;
}

void checkLayout(const nlohmann::json& saved, const nlohmann::json& current, const std::string& file)
{
    const std::string hint = "; the checkpoint was saved by a run with other trainable tensors (technique, target "
                             "modules or rank differ)";
    if (!saved.is_array() || saved.size() != current.size())
        fail("optimizer state in " + file + " has " + std::to_string(saved.is_array() ? saved.size() : 0) +
             " parameter groups but this run's optimizer has " + std::to_string(current.size()) + hint);
    for (size_t g = 0; g < current.size(); ++g) {
        const auto& s = saved[g];
        const auto& c = current[g];
        if (!s.is_array() || s.size() != c.size())
            fail("optimizer state in " + file + ": group " + std::to_string(g) + " has " +
                 std::to_string(s.is_array() ? s.size() : 0) + " tensors in the checkpoint but " +
                 std::to_string(c.size()) + " in this run" + hint);
        for (size_t i = 0; i < c.size(); ++i) {
            const std::string savedName = s[i].value("name", "");
            const auto savedShape = s[i].value("shape", std::vector<int64_t>{});
            const auto shape = c[i]["shape"].get<std::vector<int64_t>>();
            if (savedName != c[i]["name"].get<std::string>() || savedShape != shape)
                fail("optimizer state in " + file + ": group " + std::to_string(g) + " tensor " + std::to_string(i) +
                     " is '" + savedName + "' " + util::shapeString(savedShape) + " in the checkpoint but '" +
                     c[i]["name"].get<std::string>() + "' " + util::shapeString(shape) + " in this run" + hint);
        }
    }
}

void writeOptimizer(const std::string& path, torch::optim::Optimizer& optimizer, const NamedTensors& trainable)
{
    const nlohmann::json layout = optimizerLayout(optimizer, trainable);
    // Written through our own file: libtorch's file writer throws from its destructor when
    // a write fails (a full disk), which ends the process. Here a failed write is only
    // remembered, and torch is told every byte went, so it finishes; then the error is ours.
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file)
        fail("cannot write the optimizer state to " + path + ": " + std::strerror(errno));
    int writeError = 0;
    try {
        torch::serialize::OutputArchive archive;
        optimizer.save(archive);
        archive.write("ftstudio_layout", c10::IValue(layout.dump()));
        archive.save_to([&](const void* data, size_t n) -> size_t {
            if (writeError == 0 && n > 0 && std::fwrite(data, 1, n, file) != n)
                writeError = errno ? errno : EIO;
            return n;
        });
    } catch (const c10::Error& e) {
        std::fclose(file);
        std::remove(path.c_str());
        fail("cannot write the optimizer state to " + path + ": " + e.what_without_backtrace());
    }
    if (std::fflush(file) != 0 && writeError == 0)
        writeError = errno ? errno : EIO;
    if (std::fclose(file) != 0 && writeError == 0)
        writeError = errno ? errno : EIO;
    if (writeError != 0) {
        std::remove(path.c_str());
        fail("cannot write the optimizer state to " + path + ": " + std::strerror(writeError));
    }
    syncPath(path, false);
}

// Reads the archive and checks its layout against this run's optimizer; nothing is
// applied yet, so a mismatch leaves the optimizer as it was.
torch::serialize::InputArchive openOptimizer(const std::string& path, const torch::optim::Optimizer& optimizer,
                                             const NamedTensors& trainable)
{
    if (!fs::is_regular_file(path))
        fail("checkpoint file " + path + " is missing");
    c10::Device device(c10::kCPU);
    for (const auto& group : optimizer.param_groups())
        if (!group.params().empty()) {
            device = group.params().front().device();
            break;
        }
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, device);
        c10::IValue layout;
        if (!archive.try_read("ftstudio_layout", layout) || !layout.isString())
            fail("optimizer state in " + path + " carries no tensor layout; it was not written by this program");
        checkLayout(nlohmann::json::parse(layout.toStringRef()), optimizerLayout(optimizer, trainable), path);
    } catch (const c10::Error& e) {
        fail("cannot read the optimizer state in " + path + ": " + e.what_without_backtrace());
    } catch (const nlohmann::json::exception& e) {
        fail("the tensor layout stored in " + path + " is malformed: " + e.what());
    }
    return archive;
}

void applyOptimizer(torch::serialize::InputArchive& archive, const std::string& path,
                    torch::optim::Optimizer& optimizer, const NamedTensors& trainable)
{
    try {
        optimizer.load(archive);
    } catch (const c10::Error& e) {
        fail("cannot read the optimizer state in " + path + ": " + e.what_without_backtrace());
    }
    // libtorch matches state to tensors by position only; make sure the shapes agree.
    for (const auto& [name, tensor] : trainable) {
        const auto* adam = dynamic_cast<const torch::optim::AdamWParamState*>(optimizerStateOf(optimizer, tensor));
        if (adam && adam->exp_avg().sizes() != tensor.sizes())
            fail("optimizer state in " + path + " for tensor '" + name + "' has shape " +
                 util::shapeString(adam->exp_avg().sizes()) + " but the tensor has shape " + util::shapeString(tensor.sizes()));
    }
}

void writeTensors(const std::string& path, const NamedTensors& trainable)
{
    std::vector<at::Tensor> cpu;  // keeps the bytes alive while writing
    std::vector<io::TensorToWrite> tensors;
    cpu.reserve(trainable.size());
    for (const auto& [name, tensor] : trainable) {
        cpu.push_back(tensor.detach().to(at::kCPU).contiguous());
        const at::Tensor& t = cpu.back();
        tensors.push_back({name, storageType(name, t.scalar_type()), t.sizes().vec(), t.data_ptr(), t.nbytes()});
    }
    io::writeSafetensors(path, tensors, {{"format", "ftstudio-training-checkpoint"}});
}

// The saved tensors matched to this run's, every name and shape checked first.
struct TensorLoadPlan {
    io::SafetensorsFile file;
    std::vector<std::pair<const io::TensorView*, at::Tensor>> copies;
};

TensorLoadPlan planTensors(const std::string& path, const NamedTensors& trainable)
{
    if (!fs::is_regular_file(path))
        fail("checkpoint file " + path + " is missing");
    TensorLoadPlan plan{io::SafetensorsFile::open(path), {}};
    std::vector<std::string> problems;
    std::unordered_map<std::string, bool> wanted;
    for (const auto& [name, tensor] : trainable) {
        wanted[name] = true;
        const io::TensorView* view = plan.file.find(name);
        if (!view) {
            problems.push_back("tensor '" + name + "' is missing (this run trains it with shape " +
                               util::shapeString(tensor.sizes()) + ")");
        } else if (at::IntArrayRef(view->shape) != tensor.sizes()) {
            problems.push_back("tensor '" + name + "' has shape " + util::shapeString(view->shape) +
                               " in the checkpoint but shape " + util::shapeString(tensor.sizes()) + " in this run");
        } else {
            plan.copies.emplace_back(view, tensor);
        }
    }
    for (const auto& view : plan.file.tensors())
        if (!wanted.count(view.name))
            problems.push_back("tensor '" + view.name + "' " + util::shapeString(view.shape) +
                               " is in the checkpoint but this run does not train it");
    if (!problems.empty()) {
        std::string message = "checkpoint file " + path + " does not match the tensors this run trains:";
        for (const auto& p : problems)
            message += "\n  " + p;
        fail(message);
    }
    return plan;
}

void applyTensors(TensorLoadPlan& plan)
{
    at::NoGradGuard noGrad;
    for (auto& [view, tensor] : plan.copies)
        tensor.copy_(model::tensorFromView(*view, tensor.scalar_type()));
}

} // namespace

std::string checkpointFolderName(int64_t step) { return kPrefix + std::to_string(step); }

std::string saveCheckpoint(const std::string& outputDir, const TrainingState& state, const NamedTensors& trainable,
                           torch::optim::Optimizer& optimizer)
{
    if (state.step < 0)
        fail("a checkpoint's step must be >= 0 (got " + std::to_string(state.step) + ")");
    std::error_code ec;
    fs::create_directories(outputDir, ec);
    if (ec)
        fail("cannot create the output folder " + outputDir + ": " + ec.message());
    removeStaleScratch(outputDir);

    const std::string name = checkpointFolderName(state.step);
    const std::string finalPath = (fs::path(outputDir) / name).string();
    const std::string tmpPath = finalPath + ".tmp-" + std::to_string(::getpid());
    fs::remove_all(tmpPath, ec);
    if (!fs::create_directory(tmpPath, ec) || ec)
        fail("cannot create the checkpoint folder " + tmpPath + ": " + (ec ? ec.message() : "it already exists"));
    try {
        const fs::path dir(tmpPath);
        writeTensors((dir / kTensorsFile).string(), trainable);
        chaosPause();
        writeOptimizer((dir / kOptimizerFile).string(), optimizer, trainable);
        chaosPause();
        writeRngState((dir / kRngFile).string(), state.rng);
        chaosPause();
        nlohmann::json j = {
            {"format", "ftstudio-trainer-state"},
            {"version", 1},
            {"global_step", state.step},
            {"epoch", state.epoch},
            {"data_position", state.dataPosition},
            {"scheduler", state.scheduler},
            {"log_history", state.metricsHistory.is_null() ? nlohmann::json::array() : state.metricsHistory},
            {"extra", state.extra},
            {"files", {{"trainable", kTensorsFile}, {"optimizer", kOptimizerFile}, {"rng_state", kRngFile}}},
            {"rng_state", {{"cuda_devices", state.rng.torchCuda.size()}, {"data_order", !state.rng.dataOrder.empty()}}},
        };
        io::writeJsonFileAtomic((dir / kStateFile).string(), j);
        const std::string marker = nlohmann::json({{"step", state.step}}).dump() + "\n";
        io::writeFileAtomic((dir / kCompleteFile).string(),
                            {std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(marker.data()), marker.size())});
        syncPath(tmpPath, true);

        if (::rename(tmpPath.c_str(), finalPath.c_str()) != 0) {
            if (errno != EEXIST && errno != ENOTEMPTY)
                fail("cannot rename " + tmpPath + " to " + finalPath + ": " + std::strerror(errno));
            // Replacing a checkpoint of the same step: swap the two folders in one step,
            // then delete the old one (now under the temporary name).
            if (::renameat2(AT_FDCWD, tmpPath.c_str(), AT_FDCWD, finalPath.c_str(), RENAME_EXCHANGE) != 0) {
                const std::string old = finalPath + ".old-" + std::to_string(::getpid());
                if (::rename(finalPath.c_str(), old.c_str()) != 0)
                    fail("cannot replace " + finalPath + ": " + std::strerror(errno));
                if (::rename(tmpPath.c_str(), finalPath.c_str()) != 0) {
                    const int err = errno;
                    ::rename(old.c_str(), finalPath.c_str());  // put the previous one back
                    fail("cannot rename " + tmpPath + " to " + finalPath + ": " + std::strerror(err));
                }
                fs::remove_all(old, ec);
            }
        }
        syncPath(outputDir, true);
    } catch (...) {
        fs::remove_all(tmpPath, ec);
        throw;
    }
    fs::remove_all(tmpPath, ec);  // the previous checkpoint of this step, after a swap
    return finalPath;
}

std::vector<std::pair<int64_t, std::string>> listCheckpoints(const std::string& outputDir)
{
    std::vector<std::pair<int64_t, std::string>> found;
    std::error_code ec;
    if (!fs::is_directory(outputDir, ec))
        return found;
    for (const auto& entry : fs::directory_iterator(outputDir, ec)) {
        const int64_t step = checkpointStep(entry.path().filename().string());
        if (step < 0 || !entry.is_directory(ec) || !fs::is_regular_file(entry.path() / kCompleteFile, ec))
            continue;
        found.emplace_back(step, entry.path().string());
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::optional<std::string> latestCheckpoint(const std::string& outputDir)
{
    removeStaleScratch(outputDir);
    const auto all = listCheckpoints(outputDir);
    if (all.empty())
        return std::nullopt;
    return all.back().second;
}

TrainingState loadCheckpoint(const std::string& path, const NamedTensors& trainable, torch::optim::Optimizer& optimizer)
{
    const fs::path dir(path);
    if (!fs::is_directory(dir))
        fail("checkpoint folder " + path + " does not exist");
    if (!fs::is_regular_file(dir / kCompleteFile))
        fail("checkpoint " + path + " is incomplete (no '" + std::string(kCompleteFile) +
             "' marker): it was interrupted while being written; resume from an earlier checkpoint");
    const std::string stateFile = (dir / kStateFile).string();
    const nlohmann::json j = io::readJsonFile(stateFile);
    if (!j.is_object() || !j.contains("global_step") || !j["global_step"].is_number_integer())
        fail(stateFile + " has no integer field 'global_step'");

    TrainingState state;
    state.step = j["global_step"].get<int64_t>();
    state.epoch = j.value("epoch", 0.0);
    state.dataPosition = j.value("data_position", nlohmann::json());
    state.scheduler = j.value("scheduler", nlohmann::json());
    state.metricsHistory = j.value("log_history", nlohmann::json::array());
    state.extra = j.value("extra", nlohmann::json());
    state.rng = readRngState((dir / kRngFile).string());

    // Everything is checked before anything is copied, so a mismatch leaves the run untouched.
    TensorLoadPlan tensors = planTensors((dir / kTensorsFile).string(), trainable);
    const std::string optimizerFile = (dir / kOptimizerFile).string();
    torch::serialize::InputArchive archive = openOptimizer(optimizerFile, optimizer, trainable);
    applyTensors(tensors);
    applyOptimizer(archive, optimizerFile, optimizer, trainable);
    return state;
}

std::vector<std::string> pruneCheckpoints(const std::string& outputDir, int keepLast)
{
    std::vector<std::string> removed;
    if (keepLast <= 0)
        return removed;
    const auto all = listCheckpoints(outputDir);
    for (size_t i = 0; i + size_t(keepLast) < all.size(); ++i) {
        const std::string& path = all[i].second;
        const std::string doomed = path + ".old-" + std::to_string(::getpid());
        if (::rename(path.c_str(), doomed.c_str()) != 0)
            fail("cannot remove the old checkpoint " + path + ": " + std::strerror(errno));
        std::error_code ec;
        fs::remove_all(doomed, ec);
        if (ec)
            fail("cannot delete " + doomed + ": " + ec.message());
        removed.push_back(path);
    }
    return removed;
}

} // namespace ft::train
