#include "deploy/gguf_export.h"

#include "deploy/gguf_arch.h"
#include "deploy/gguf_tensor.h"
#include "model/moe_block.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/model_io.h"
#include "peft/adapter_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <torch/torch.h>

#include <filesystem>
#include <optional>

namespace fs = std::filesystem;

namespace ft::deploy {
namespace {

using io::GgmlType;

struct FileType {
    const char* name;
    uint32_t llamaFtype;  // llama.cpp's enum llama_ftype
    GgmlType base;        // the type of most 2-D tensors
};
constexpr FileType kFileTypes[] = {
    {"f32", 0, GgmlType::F32}, {"f16", 1, GgmlType::F16},   {"bf16", 32, GgmlType::BF16},
    {"q8_0", 7, GgmlType::Q8_0}, {"q4_0", 2, GgmlType::Q4_0}, {"q4_k_m", 15, GgmlType::Q4_K},
};

const FileType& fileTypeOf(const std::string& name)
{
    for (const auto& t : kFileTypes)
        if (name == t.name)
            return t;
    std::string list;
    for (const auto& t : kFileTypes)
        list += (list.empty() ? "" : ", ") + std::string(t.name);
    fail("unknown GGUF type '" + name + "' (choose one of " + list + ")");
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between.
bool useMoreBits(int64_t layer, int64_t layers)
{
    return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}

// llama-quantize's replacements when a row is not a whole number of blocks.
GgmlType fallbackFor(GgmlType t, int64_t rowLength)
{
    const auto fits = [&](GgmlType c) { return rowLength % io::ggmlTypeInfo(c).blockSize == 0; };
    if (fits(t))
        return t;
    GgmlType f = t;
    if (t == GgmlType::Q4_K)
        f = GgmlType::Q5_0;
    else if (t == GgmlType::Q6_K)
        f = GgmlType::Q8_0;
    return fits(f) ? f : GgmlType::F16;
}

// kBFloat16 / kHalf when every floating tensor of the folder's checkpoint has that dtype.
std::optional<c10::ScalarType> sixteenBitDtypeOf(const std::string& modelDir)
{
    const auto checkpoint = io::SafetensorsCheckpoint::open(modelDir);
    std::optional<io::DType> common;
    for (const auto& name : checkpoint.names()) {
        const io::DType d = checkpoint.get(name).dtype;
        if (d != io::DType::F32 && d != io::DType::F16 && d != io::DType::BF16)
            continue;
        if (common && *common != d)
            return std::nullopt;
        common = d;
    }
    if (common == io::DType::BF16)
        return c10::kBFloat16;
    if (common == io::DType::F16)
        return c10::kHalf;
    return std::nullopt;
}

} // namespace

void checkGgufOutPath(const std::string& path)
{
    if (fs::is_directory(path))
        fail("--out '" + path + "' is a folder; give a file name such as model.gguf");
    if (!fs::is_directory(fs::absolute(path).parent_path()))
        fail("the folder of '" + path + "' does not exist");
}

const std::vector<std::string>& ggufFileTypes()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const auto& t : kFileTypes)
            v.emplace_back(t.name);
        return v;
    }();
    return names;
}

uint32_t ggufFileTypeId(const std::string& fileType) { return fileTypeOf(fileType).llamaFtype; }

GgmlType ggufTensorType(const std::string& fileType, const std::string& name, const std::vector<int64_t>& dims,
                        int64_t layer, int64_t layerCount, bool tiedOutput)
{
    const FileType& ft = fileTypeOf(fileType);
    if (dims.size() < 2)
        return GgmlType::F32;  // norms, biases, rope factors: always f32, as the converter keeps them
    if (name.ends_with("ffn_gate_inp.weight"))  // a router: llama-quantize never quantizes it
        return ft.base == GgmlType::F32 ? GgmlType::F32 : GgmlType::F16;
    const bool isOutput = name == "output.weight" || (tiedOutput && name == "token_embd.weight");
    GgmlType t = ft.base;
    if (ft.base == GgmlType::Q4_0 && isOutput)
        t = GgmlType::Q6_K;  // llama-quantize keeps the output projection at 6 bits
    if (ft.base == GgmlType::Q4_K) {  // Q4_K_M
        if (isOutput)
            t = GgmlType::Q6_K;
        else if (name.ends_with("attn_v.weight") && useMoreBits(layer, layerCount))
            t = GgmlType::Q6_K;
        else if ((name.ends_with("ffn_down.weight") || name.ends_with("ffn_down_exps.weight")) &&
                 useMoreBits(layer, layerCount))
            t = GgmlType::Q6_K;
        else if (name.ends_with("attn_qkv.weight"))  // Phi-3's fused q, k, v: llama-quantize gives Q5_K,
            t = GgmlType::Q6_K;                       // which the studio does not write; it keeps 6 bits
    }
    return fallbackFor(t, dims[0]);
}

GgufExportReport exportGguf(const GgufExportOptions& options)
{
    const FileType& fileType = fileTypeOf(options.fileType);
    checkGgufOutPath(options.outPath);

    torch::NoGradGuard noGrad;
    // Without adapters to merge, a 16-bit checkpoint stays 16-bit in memory and each
    // tensor becomes float only while it is written: the peak is the checkpoint's size,
    // not twice it. Merging needs float weights.
    model::LoadOptions load;
    if (options.adapterDirs.empty())
        load.computeDtype = sixteenBitDtypeOf(options.modelDir).value_or(c10::kFloat);
    model::LoadedModel loaded = model::loadModelFolder(options.modelDir, load);
    const model::ModelConfig& c = loaded.config;
    const GgufArch& arch = ggufArch(c.arch);
    GgufExportReport report;
    report.architecture = arch.ggufName;
    report.fileType = fileType.name;

    if (!options.adapterDirs.empty()) {
        const auto tokenizer = tok::loadTokenizer(options.modelDir);
        peft::ApplyContext context{tokenizer.get(), /*tensorsFollow=*/true};
        for (size_t i = 0; i < options.adapterDirs.size(); ++i) {
            const std::string& dir = options.adapterDirs[i];
            auto adapter = peft::loadAdapter(dir, loaded.model, "merge" + std::to_string(i), context);
            if (!adapter->canMerge())
                fail("the " + adapter->peftType() + " adapter in " + dir + " (technique '" +
                     adapter->settings().technique +
                     "') cannot be merged into the weights, so it cannot be part of a GGUF file");
            adapter->mergeAndUnload(c10::kFloat);
        }
    }

    io::GgufWriter w;
    w.set("general.architecture", io::GgufValue{std::string(arch.ggufName)});
    w.set("general.type", io::GgufValue{std::string("model")});
    w.set("general.name", io::GgufValue{fs::path(fs::absolute(options.modelDir)).lexically_normal().filename().string()});
    w.set("general.file_type", io::GgufValue{fileType.llamaFtype});
    w.set("general.quantization_version", io::GgufValue{uint32_t(2)});
    writeHyperParameters(w, arch, c);
    report.vocab = writeVocabulary(w, options.modelDir, c.vocabSize);

    if (c.slidingWindow && arch.ggufName == std::string("llama") && *c.slidingWindow < c.maxPositionEmbeddings)
        report.notes.push_back("llama.cpp runs the llama architecture without a sliding window: sequences longer than " +
                               std::to_string(*c.slidingWindow) + " tokens attend further back than in the studio");

    if (c.ropeScaling.type == "llama3") {
        addFloatTensor(w, "rope_freqs.weight", torch::tensor(llama3RopeFactors(c)), GgmlType::F32);
        report.tensorsByType["f32"]++;
        report.tensorCount++;
    }
    if (c.ropeScaling.type == "longrope") {  // Phi-3: one divisor per rotated pair, for each context regime
        for (const auto& [name, factors] : {std::pair{"rope_factors_long.weight", &c.ropeScaling.longFactor},
                                            std::pair{"rope_factors_short.weight", &c.ropeScaling.shortFactor}}) {
            addFloatTensor(w, name, torch::tensor(std::vector<float>(factors->begin(), factors->end())), GgmlType::F32);
            report.tensorsByType["f32"]++;
            report.tensorCount++;
        }
        if (c.ropeScaling.originalMaxPositionEmbeddings < c.maxPositionEmbeddings)
            report.notes.push_back("llama.cpp picks Phi-3's long RoPE factors by the context size it is started with "
                                   "(above " + std::to_string(c.ropeScaling.originalMaxPositionEmbeddings) +
                                   " tokens), transformers and the studio by the length of the sequence");
    }

    bool hasOutput = false;
    for (const auto& p : loaded.model->named_parameters())
        if (p.key() == "lm_head.weight" && !c.tieWordEmbeddings)
            hasOutput = true;
    // A mixture of experts: each layer's experts stacked per projection, as llama.cpp's
    // ffn_gate_exps / ffn_up_exps / ffn_down_exps (written expert by expert).
    for (int64_t i = 0; i < c.numHiddenLayers && c.hasExperts(); ++i) {
        auto& moe = *loaded.model->model->layer(i).moe;
        const std::string blk = "blk." + std::to_string(i) + ".";
        for (const auto& [kind, gguf] : {std::pair{0, "ffn_gate_exps"}, std::pair{1, "ffn_up_exps"},
                                         std::pair{2, "ffn_down_exps"}}) {
            std::vector<at::Tensor> parts;
            for (int64_t e = 0; e < moe.expertCount(); ++e) {
                model::ExpertMlpImpl& ex = moe.expert(e);
                const model::LinearLayer& l = kind == 0 ? ex.gate : kind == 1 ? ex.up : ex.down;
                auto* dense = l->as<model::DenseLinearImpl>();
                if (!dense)
                    fail("expert " + std::to_string(e) + " of layer " + std::to_string(i) +
                         " is not a plain weight after merging; it cannot be written to GGUF");
                parts.push_back(dense->weight.detach());
            }
            const std::string name = blk + gguf + ".weight";
            const std::vector<int64_t> dims{parts[0].size(1), parts[0].size(0), int64_t(parts.size())};
            const GgmlType type = ggufTensorType(fileType.name, name, dims, i, c.numHiddenLayers, !hasOutput);
            report.tensorsByType[io::ggmlTypeInfo(type).name]++;
            addStackedFloatTensor(w, name, parts, type);
            report.tensorCount++;
        }
    }
    for (const auto& p : loaded.model->named_parameters()) {
        const std::string& hf = p.key();
        if (hf == "lm_head.weight" && c.tieWordEmbeddings)
            continue;
        if (hf.find(".experts.") != std::string::npos)
            continue;  // stacked above
        const auto name = ggufTensorName(hf, &arch);
        if (!name)
            fail("GGUF export does not know where tensor '" + hf + "' of " + options.modelDir + " goes");
        at::Tensor t = p.value().detach();
        if (arch.gemmaNorms && t.dim() == 1 && name->find("norm.") != std::string::npos)
            t = t.to(torch::kFloat) + 1;  // Gemma's RMSNorm computes x * (1 + w); llama.cpp's x * w
        const std::vector<int64_t> dims(t.sizes().rbegin(), t.sizes().rend());
        const GgmlType type =
            ggufTensorType(fileType.name, *name, dims, ggufLayerOf(*name), c.numHiddenLayers, !hasOutput);
        report.tensorsByType[io::ggmlTypeInfo(type).name]++;
        addFloatTensor(w, *name, t, type, ggufPermuteHeads(arch, c, *name));
        report.tensorCount++;
    }
    w.write(options.outPath, options.progress);
    report.fileBytes = size_t(fs::file_size(options.outPath));
    return report;
}

} // namespace ft::deploy
