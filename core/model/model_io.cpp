#include "model/model_io.h"

#include "io/json_file.h"
#include "io/mapped_file.h"
#include "util/error.h"
#include "util/text.h"

#include <ATen/ATen.h>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <utility>
#include <sstream>

namespace fs = std::filesystem;

namespace ft::model {

namespace {

c10::ScalarType torchTypeOf(io::DType d, const std::string& tensorName)
{
    switch (d) {
    case io::DType::F32: return c10::kFloat;
    case io::DType::F16: return c10::kHalf;
    case io::DType::BF16: return c10::kBFloat16;
    case io::DType::F64: return c10::kDouble;
    case io::DType::I64: return c10::kLong;
    case io::DType::I32: return c10::kInt;
    case io::DType::I16: return c10::kShort;
    case io::DType::I8: return c10::kChar;
    case io::DType::U8: return c10::kByte;
    case io::DType::BOOL: return c10::kBool;
    }
    fail("tensor '" + tensorName + "' has an unsupported dtype");
}

// Files that older exporters leave in checkpoints and that carry nothing to load.
bool isIgnorableExtra(const std::string& name)
{
    return name.size() >= 8 && name.compare(name.size() - 8, 8, "inv_freq") == 0;
}

// Copies a tensor out of the mapped file in slices of rows of at most ~16 MB, each
// converted on the way, checked to be finite and its mapped pages released at once:
// the loader's peak is the model's size plus one slice, however large a single
// tensor (an embedding) is. False when a value is NaN or infinite.
bool copyFromMapping(at::Tensor& param, const io::TensorView& view, c10::ScalarType stored)
{
    const auto options = at::TensorOptions().dtype(stored);
    // In pieces of 1 M elements: isfinite() allocates temporaries the size of its
    // input, and small ones come back from the heap instead of fresh pages each time.
    auto finite = [](const at::Tensor& t) {
        if (!at::isFloatingType(t.scalar_type()))
            return true;
        const at::Tensor flat = t.reshape(-1);
        const int64_t n = flat.numel(), piece = int64_t(1) << 20;
        for (int64_t at = 0; at < n; at += piece)
            if (!flat.narrow(0, at, std::min(piece, n - at)).isfinite().all().item<bool>())
                return false;
        return true;
    };
    if (param.dim() == 0) {
        param.copy_(at::from_blob(const_cast<uint8_t*>(view.data), {}, options));
        return finite(param);
    }
    const int64_t rows = param.size(0);
    const size_t rowBytes = view.nbytes / size_t(rows);
    const int64_t rowsPerSlice = std::max<int64_t>(1, int64_t((size_t(16) << 20) / std::max<size_t>(rowBytes, 1)));
    std::vector<int64_t> shape = param.sizes().vec();
    for (int64_t first = 0; first < rows; first += rowsPerSlice) {
        shape[0] = std::min(rowsPerSlice, rows - first);
        const uint8_t* data = view.data + size_t(first) * rowBytes;
        at::Tensor slice = param.narrow(0, first, shape[0]);
        slice.copy_(at::from_blob(const_cast<uint8_t*>(data), shape, options));
        io::releaseMappedPages(data, size_t(shape[0]) * rowBytes);
        if (!finite(slice))
            return false;
    }
    return true;
}

} // namespace

at::Tensor tensorFromView(const io::TensorView& view, c10::ScalarType dtype)
{
    const c10::ScalarType stored = torchTypeOf(view.dtype, view.name);
    std::vector<int64_t> shape(view.shape.begin(), view.shape.end());
    if (view.nbytes == 0)
        return at::empty(shape, at::TensorOptions().dtype(dtype));
    // from_blob does not copy; .to()/.clone() makes an owned tensor before the mapping can go away.
    at::Tensor borrowed = at::from_blob(const_cast<uint8_t*>(view.data), shape, at::TensorOptions().dtype(stored));
    return stored == dtype ? borrowed.clone() : borrowed.to(dtype);
}

io::DType toSafetensorsDType(c10::ScalarType t)
{
    switch (t) {
    case c10::kFloat: return io::DType::F32;
    case c10::kHalf: return io::DType::F16;
    case c10::kBFloat16: return io::DType::BF16;
    case c10::kLong: return io::DType::I64;
    case c10::kInt: return io::DType::I32;
    case c10::kByte: return io::DType::U8;
    default: fail(std::string("cannot store dtype ") + c10::toString(t) + " in safetensors");
    }
}

TextLayout textLayoutOf(const ModelConfig& config, const io::SafetensorsCheckpoint& checkpoint)
{
    if (!config.isMultimodal())
        return TextLayout::Text;
    for (const std::string& n : checkpoint.names())
        if (n.rfind("language_model.", 0) == 0)
            return TextLayout::LegacyMultimodal;
    return TextLayout::Multimodal;
}

std::string storedTensorName(const std::string& name, TextLayout layout)
{
    const bool inModel = name.rfind("model.", 0) == 0;
    switch (layout) {
    case TextLayout::Text: return name;
    case TextLayout::LegacyMultimodal: return "language_model." + name;
    case TextLayout::Multimodal: return inModel ? "model.language_model." + name.substr(6) : name;
    }
    return name;
}

bool isTextTensor(const std::string& storedName, TextLayout layout)
{
    switch (layout) {
    case TextLayout::Text: return true;
    case TextLayout::LegacyMultimodal: return storedName.rfind("language_model.", 0) == 0;
    case TextLayout::Multimodal:
        return storedName.rfind("model.language_model.", 0) == 0 || storedName.rfind("lm_head.", 0) == 0;
    }
    return true;
}

std::vector<std::string> loadWeights(torch::nn::Module& model, const io::SafetensorsCheckpoint& checkpoint,
                                     TextLayout layout, const std::function<void(const at::Tensor&)>& afterEach)
{
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    auto parameters = model.named_parameters();
    for (auto& p : parameters) {
        const std::string name = storedTensorName(p.key(), layout);
        at::Tensor& param = p.value();
        const io::TensorView* view = checkpoint.find(name);
        if (!view)
            fail("tensor '" + name + "' is missing from the checkpoint (" + checkpoint.files().front() +
                 (checkpoint.files().size() > 1 ? " and other shards" : "") + "); expected shape " +
                 util::shapeString(param.sizes()));
        if (at::IntArrayRef(view->shape) != param.sizes())
            fail("tensor '" + name + "' has shape " + util::shapeString(view->shape) + " in the checkpoint but the model config expects " +
                 util::shapeString(param.sizes()) + " (" + checkpoint.files().front() + ")");
        // Straight from the mapping into the parameter, converting on the way; then the
        // mapped pages leave the resident set, so the peak stays at the model's size.
        if (view->nbytes > 0 && !copyFromMapping(param, *view, torchTypeOf(view->dtype, name)))
            fail("tensor '" + name + "' contains NaN or infinite values");
        used.insert(name);
        // The list's handle goes now: a module the hook replaces is freed with it.
        const at::Tensor filled = std::exchange(param, at::Tensor());
        if (afterEach)
            afterEach(filled);
    }
    std::vector<std::string> unused;
    for (const std::string& n : checkpoint.names())
        if (!used.count(n) && !isIgnorableExtra(n) && isTextTensor(n, layout))
            unused.push_back(n);
    return unused;
}

GenerationDefaults readGenerationDefaults(const std::string& dir, const ModelConfig& config)
{
    GenerationDefaults g;
    g.bosTokenId = config.bosTokenId;
    g.eosTokenIds = config.eosTokenIds.empty() ? std::vector<int64_t>{config.eosTokenId} : config.eosTokenIds;
    const fs::path path = fs::path(dir) / "generation_config.json";
    if (!fs::exists(path))
        return g;
    const nlohmann::json j = io::readJsonFile(path.string());
    if (j.contains("bos_token_id") && j["bos_token_id"].is_number_integer())
        g.bosTokenId = j["bos_token_id"].get<int64_t>();
    if (j.contains("eos_token_id")) {
        const auto& e = j["eos_token_id"];
        if (e.is_number_integer())
            g.eosTokenIds = {e.get<int64_t>()};
        else if (e.is_array()) {
            g.eosTokenIds.clear();
            for (const auto& v : e) {
                if (!v.is_number_integer())
                    fail(path.string() + ": 'eos_token_id' must hold integers, found " + v.dump());
                g.eosTokenIds.push_back(v.get<int64_t>());
            }
        }
    }
    return g;
}

std::string requireModelFolder(const std::string& dir)
{
    if (!fs::is_directory(dir))
        fail("model folder '" + dir + "' does not exist or is not a folder");
    const fs::path configPath = fs::path(dir) / "config.json";
    if (!fs::exists(configPath))
        fail("'" + dir + "' is not a Hugging Face model folder: config.json is missing");
    return configPath.string();
}

LoadedModel loadModelFolder(const std::string& dir, const LoadOptions& options)
{
    const std::string configPath = requireModelFolder(dir);
    LoadedModel out;
    out.dir = dir;
    out.config = readModelConfig(configPath);
    const io::SafetensorsCheckpoint checkpoint = io::SafetensorsCheckpoint::open(dir);
    std::set<std::string> storedTypes;
    for (const std::string& n : checkpoint.names())
        storedTypes.insert(io::dtypeName(checkpoint.get(n).dtype));
    for (const auto& t : storedTypes)
        out.storedDtype += (out.storedDtype.empty() ? "" : "+") + t;

    {
        SkipWeightInit skip;  // every weight comes from the checkpoint
        out.model = CausalLM(out.config);
    }
    // Give every (untouched) parameter fresh, untouched storage in the compute dtype
    // instead of converting it (Module::to would write every byte once for nothing),
    // so each weight is converted once, straight from the mapped file: host memory
    // peaks at the model's size in that dtype.
    {
        torch::NoGradGuard noGrad;
        for (at::Tensor& p : out.model->parameters())
            if (at::isFloatingType(p.scalar_type()) && p.scalar_type() != options.computeDtype)
                p.set_data(at::empty(p.sizes(), p.options().dtype(options.computeDtype)));
        for (at::Tensor& b : out.model->buffers())
            if (at::isFloatingType(b.scalar_type()))
                b.set_data(b.to(options.computeDtype));
    }
    const TextLayout layout = textLayoutOf(out.config, checkpoint);
    std::function<void(const at::Tensor&)> afterEach;
    if (options.afterParameter)
        afterEach = [&](const at::Tensor& t) { options.afterParameter(out.model, t); };
    out.ignoredTensors = loadWeights(*out.model, checkpoint, layout, afterEach);
    for (const std::string& n : checkpoint.names())
        out.otherModalityTensors += isTextTensor(n, layout) ? 0 : 1;
    out.model->to(options.device);
    out.model->eval();
    out.generation = readGenerationDefaults(dir, out.config);
    return out;
}

namespace {

// One tensor of a folder being written: its size, and how to get its bytes (converted
// only when its shard is written).
struct PendingTensor {
    std::string name;
    int64_t bytes = 0;
    std::function<io::TensorToWrite(std::vector<at::Tensor>& keepAlive)> make;
};

// Writes `tensors` as one model.safetensors or as shards of at most maxShardBytes with
// model.safetensors.index.json, as save_pretrained does.
void writeShards(const fs::path& dir, const std::vector<PendingTensor>& tensors, int64_t maxShardBytes)
{
    // Shards are planned on sizes first and converted one shard at a time, so a 7B
    // export never holds a second full copy of the weights.
    std::vector<std::vector<size_t>> shards(1);
    int64_t shardBytes = 0, totalBytes = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (shardBytes > 0 && shardBytes + tensors[i].bytes > maxShardBytes) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(i);
        shardBytes += tensors[i].bytes;
        totalBytes += tensors[i].bytes;
    }
    const size_t n = shards.size();
    auto shardName = [n](size_t i) {
        if (n == 1)
            return std::string("model.safetensors");
        char buf[64];
        std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
        return std::string(buf);
    };
    nlohmann::json weightMap = nlohmann::json::object();
    for (size_t s = 0; s < n; ++s) {
        std::vector<at::Tensor> keepAlive;
        std::vector<io::TensorToWrite> toWrite;
        for (size_t i : shards[s]) {
            toWrite.push_back(tensors[i].make(keepAlive));
            weightMap[tensors[i].name] = shardName(s);
        }
        io::writeSafetensors((dir / shardName(s)).string(), toWrite, {{"format", "pt"}});
    }
    if (n > 1)
        io::writeJsonFileAtomic((dir / "model.safetensors.index.json").string(),
                                {{"metadata", {{"total_size", totalBytes}}}, {"weight_map", weightMap}});
}

const char* torchDtypeName(c10::ScalarType t)
{
    return t == c10::kBFloat16 ? "bfloat16" : t == c10::kHalf ? "float16" : "float32";
}

} // namespace

void saveModelFolder(const std::string& dir, CausalLM& model, const GenerationDefaults& generation,
                     c10::ScalarType storeDtype, int64_t maxShardBytes, const std::string& multimodalBase)
{
    const ModelConfig& config = model->config();
    if (config.isMultimodal() && multimodalBase.empty())
        fail("the text part of a " + config.multimodalType + " model is saved together with its base folder "
             "(its vision tower and config.json); none was given");
    fs::create_directories(dir);
    std::optional<io::SafetensorsCheckpoint> base;
    TextLayout layout = TextLayout::Text;
    if (config.isMultimodal()) {
        base = io::SafetensorsCheckpoint::open(multimodalBase);
        layout = textLayoutOf(config, *base);
    }
    std::vector<PendingTensor> tensors;
    const int64_t elementBytes = int64_t(c10::elementSize(storeDtype));
    for (auto& p : model->named_parameters()) {
        at::Tensor param = p.value();
        const std::string name = storedTensorName(p.key(), layout);
        tensors.push_back({name, param.numel() * elementBytes, [param, name, storeDtype](std::vector<at::Tensor>& keep) {
                               at::Tensor t = param.detach().to(at::kCPU, storeDtype).contiguous();
                               keep.push_back(t);
                               return io::TensorToWrite{name, toSafetensorsDType(storeDtype), t.sizes().vec(),
                                                        t.data_ptr(), t.nbytes()};
                           }});
    }
    // The other modality's tensors (vision tower, projector) go back byte for byte.
    if (base)
        for (const std::string& n : base->names()) {
            if (isTextTensor(n, layout))
                continue;
            const io::TensorView& v = base->get(n);
            tensors.push_back({n, int64_t(v.nbytes), [&v](std::vector<at::Tensor>&) {
                                   return io::TensorToWrite{v.name, v.dtype, v.shape, v.data, v.nbytes};
                               }});
        }
    writeShards(dir, tensors, maxShardBytes);

    nlohmann::json configJson;
    if (base) {
        // The base's own config.json (vision_config, image tokens) with the new dtype.
        configJson = io::readJsonFile((fs::path(multimodalBase) / "config.json").string());
        configJson["torch_dtype"] = torchDtypeName(storeDtype);
        if (configJson["text_config"].contains("torch_dtype"))
            configJson["text_config"]["torch_dtype"] = torchDtypeName(storeDtype);
        for (const char* name : {"preprocessor_config.json", "processor_config.json"})
            if (fs::exists(fs::path(multimodalBase) / name))
                fs::copy_file(fs::path(multimodalBase) / name, fs::path(dir) / name, fs::copy_options::overwrite_existing);
    } else {
        ModelConfig stored = config;
        stored.torchDtype = torchDtypeName(storeDtype);
        configJson = modelConfigToJson(stored);
    }
    io::writeJsonFileAtomic((fs::path(dir) / "config.json").string(), configJson);
    nlohmann::json gen{{"bos_token_id", generation.bosTokenId}};
    if (generation.eosTokenIds.size() == 1)
        gen["eos_token_id"] = generation.eosTokenIds.front();
    else
        gen["eos_token_id"] = generation.eosTokenIds;
    io::writeJsonFileAtomic((fs::path(dir) / "generation_config.json").string(), gen);
}

std::vector<std::string> copyTokenizerFiles(const std::string& fromDir, const std::string& toDir)
{
    static const char* const kFiles[] = {"tokenizer.model",         "tokenizer.json",    "tokenizer_config.json",
                                         "special_tokens_map.json", "added_tokens.json", "chat_template.jinja",
                                         "chat_template.json"};
    std::vector<std::string> copied;
    fs::create_directories(toDir);
    for (const char* name : kFiles) {
        const fs::path from = fs::path(fromDir) / name;
        if (!fs::exists(from))
            continue;
        const fs::path to = fs::path(toDir) / name, tmp = fs::path(toDir) / (std::string(name) + ".tmp");
        fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
        fs::rename(tmp, to);
        copied.push_back(name);
    }
    return copied;
}

} // namespace ft::model
