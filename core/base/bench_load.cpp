#include "base/bench_load.h"

#include "model/llama.h"
#include "model/model_io.h"
#include "peft/nf4.h"
#include "model/runtime.h"
#include "util/stopwatch.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fcntl.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ft::base {

namespace {


} // namespace

model::ModelConfig syntheticCheckpointConfig(int64_t layers)
{
    model::ModelConfig c;
    c.arch = model::Arch::Llama;
    c.vocabSize = 32000;
    c.hiddenSize = 2048;
    c.intermediateSize = 5632;
    c.numHiddenLayers = layers;
    c.numAttentionHeads = 32;
    c.numKeyValueHeads = 4;
    c.headDim = 64;
    c.maxPositionEmbeddings = 2048;
    c.rmsNormEps = 1e-5;
    c.bosTokenId = 1;
    c.eosTokenId = 2;
    c.eosTokenIds = {2};
    return c;
}

SyntheticCheckpoint writeSyntheticCheckpoint(const model::ModelConfig& config, const std::string& dir,
                                             c10::ScalarType storeDtype, int64_t maxShardBytes, uint64_t seed)
{
    const auto start = util::Clock::now();
    model::CausalLM lm{nullptr};
    {
        model::SkipWeightInit skip;  // filled below, directly in the stored dtype
        lm = model::CausalLM(config);
    }
    lm->to(storeDtype);
    at::Generator gen = at::detail::createCPUGenerator(seed);
    SyntheticCheckpoint out;
    {
        torch::NoGradGuard noGrad;
        for (auto& p : lm->named_parameters()) {
            at::Tensor& t = p.value();
            if (p.key().find("norm") != std::string::npos)
                t.fill_(1.0);
            else
                t.normal_(0.0, 0.02, gen);
            out.parameters += t.numel();
            out.bytes += int64_t(t.nbytes());
        }
    }
    model::saveModelFolder(dir, lm, {config.bosTokenId, config.eosTokenIds}, storeDtype, maxShardBytes);
    out.shards = fs::exists(fs::path(dir) / "model.safetensors.index.json")
                     ? int64_t(std::count_if(fs::directory_iterator(dir), fs::directory_iterator(),
                                             [](const fs::directory_entry& e) {
                                                 return e.path().extension() == ".safetensors";
                                             }))
                     : 1;
    out.seconds = util::secondsSince(start);
    return out;
}

int dropFromPageCache(const std::string& dir)
{
    int dropped = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (!e.is_regular_file())
            continue;
        const int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0)
            ++dropped;
        ::close(fd);
    }
    return dropped;
}

LoadMeasurement measureLoad(const std::string& dir, c10::ScalarType dtype, bool nf4Projections)
{
    LoadMeasurement m;
    m.peakIsOwn = resetPeakRss();
    m.rssBefore = processMemory().rssBytes;
    const auto start = util::Clock::now();
    model::LoadOptions options;
    options.computeDtype = dtype;
    auto quantized = std::make_shared<peft::StreamingQuantization>();
    if (nf4Projections)
        options.afterParameter = peft::quantizeWhileLoading(quantized);
    model::LoadedModel loaded = model::loadModelFolder(dir, options);
    m.seconds = util::secondsSince(start);
    m.peakRss = processMemory().peakRssBytes;
    for (const auto& p : loaded.model->parameters()) {
        m.parameters += p.numel();
        m.tensorBytes += int64_t(p.nbytes());
    }
    m.parameters += quantized->weightElements;  // the checkpoint's count
    m.tensorBytes += quantized->nf4Bytes;
    return m;
}

} // namespace ft::base
