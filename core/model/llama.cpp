#include "model/llama.h"

#include "model/activation_checkpoint.h"
#include "model/gemma_block.h"
#include "model/moe_block.h"
#include "model/olmo2_block.h"

#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>
#include <limits>

namespace ft::model {

namespace {
// Reductions (norms, softmax) run in at least fp32; fp64 stays fp64 so gradient
// checks against finite differences keep their precision.
c10::ScalarType accumulationType(c10::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }
} // namespace

// ---- DenseLinear -----------------------------------------------------------------

namespace {
thread_local int t_skipInitDepth = 0;
}

SkipWeightInit::SkipWeightInit() { ++t_skipInitDepth; }
SkipWeightInit::~SkipWeightInit() { --t_skipInitDepth; }
bool SkipWeightInit::active() { return t_skipInitDepth > 0; }

DenseLinearImpl::DenseLinearImpl(int64_t in, int64_t out, bool withBias)
{
    weight = register_parameter("weight", at::empty({out, in}));
    if (!SkipWeightInit::active())
        torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (withBias)
        bias = register_parameter("bias", at::zeros({out}));
}

at::Tensor DenseLinearImpl::forward(const at::Tensor& x) { return at::linear(x, weight, bias); }

void DenseLinearImpl::ensureBias()
{
    if (!bias.defined())
        bias = register_parameter("bias", at::zeros({weight.size(0)}, weight.options()), weight.requires_grad());
}

// ---- RMSNorm ---------------------------------------------------------------------

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_, bool unitOffset_) : eps(eps_), unitOffset(unitOffset_)
{
    weight = register_parameter("weight", unitOffset ? at::zeros({dim}) : at::ones({dim}));
}

at::Tensor RMSNormImpl::forward(const at::Tensor& x)
{
    at::Tensor xf = x.to(accumulationType(x.scalar_type()));
    at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + eps);
    if (unitOffset)  // Gemma: (1 + w) in fp32, then the input's dtype
        return (normed * (1.0 + weight.to(normed.scalar_type()))).to(x.scalar_type());
    if (scaleInFloat)  // OLMo 2: w times the fp32 values, then the input's dtype
        return (weight.to(normed.scalar_type()) * normed).to(x.scalar_type());
    return weight * normed.to(x.scalar_type());
}

// ---- Attention -------------------------------------------------------------------

AttentionImpl::AttentionImpl(const ModelConfig& c)
    : m_heads(c.numAttentionHeads), m_kvHeads(c.numKeyValueHeads), m_headDim(c.headDim),
      m_scoreDivisor(std::sqrt(c.queryPreAttnScalar > 0 ? c.queryPreAttnScalar : double(c.headDim))),
      m_softcap(c.attnLogitSoftcap)
{
    const int64_t qDim = m_heads * m_headDim, kvDim = m_kvHeads * m_headDim;
    if (archTraits(c.arch).fusedProjections) {
        qkv_proj = register_module("qkv_proj", std::make_shared<DenseLinearImpl>(c.hiddenSize, qDim + 2 * kvDim,
                                                                                  c.attentionBias));
    } else {
        q_proj = register_module("q_proj", std::make_shared<DenseLinearImpl>(c.hiddenSize, qDim, c.attentionBias));
        k_proj = register_module("k_proj", std::make_shared<DenseLinearImpl>(c.hiddenSize, kvDim, c.attentionBias));
        v_proj = register_module("v_proj", std::make_shared<DenseLinearImpl>(c.hiddenSize, kvDim, c.attentionBias));
    }
    o_proj = register_module("o_proj", std::make_shared<DenseLinearImpl>(qDim, c.hiddenSize, c.attentionOutBias));
    if (archTraits(c.arch).qkNorm) {
        const bool offset = archTraits(c.arch).gemmaBlock;
        q_norm = register_module("q_norm", RMSNorm(m_headDim, c.rmsNormEps, offset));
        k_norm = register_module("k_norm", RMSNorm(m_headDim, c.rmsNormEps, offset));
    } else if (archTraits(c.arch).olmo2Block || archTraits(c.arch).wholeQkNorm) {
        m_wholeQkNorm = true;
        q_norm = register_module("q_norm", RMSNorm(qDim, c.rmsNormEps));
        k_norm = register_module("k_norm", RMSNorm(kvDim, c.rmsNormEps));
        q_norm->scaleInFloat = k_norm->scaleInFloat = archTraits(c.arch).olmo2Block;  // OLMoE's are Llama's
    }
}

namespace {
// (B, K, S, D) -> (B, K * groups, S, D): key/value head k serves query heads k*groups .. k*groups+groups-1
at::Tensor repeatKv(const at::Tensor& x, int64_t groups)
{
    if (groups == 1)
        return x;
    const auto b = x.size(0), k = x.size(1), s = x.size(2), d = x.size(3);
    return x.unsqueeze(2).expand({b, k, groups, s, d}).reshape({b, k * groups, s, d});
}

LinearLayer* findSlot(const std::string& name, std::initializer_list<std::pair<const char*, LinearLayer*>> slots)
{
    for (const auto& [slotName, slot] : slots)
        if (name == slotName)
            return slot;
    fail("no projection named '" + name + "'");
}
} // namespace

at::Tensor AttentionImpl::forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask,
                                  at::Tensor* cacheK, at::Tensor* cacheV)
{
    const int64_t b = x.size(0), t = x.size(1);
    at::Tensor q, k, v;  // (B, T, H*D), (B, T, K*D), (B, T, K*D)
    if (qkv_proj) {      // Phi-3: one projection, rows q then k then v
        const at::Tensor qkv = qkv_proj->forward(x);
        const int64_t qDim = m_heads * m_headDim, kvDim = m_kvHeads * m_headDim;
        q = qkv.narrow(-1, 0, qDim);
        k = qkv.narrow(-1, qDim, kvDim);
        v = qkv.narrow(-1, qDim + kvDim, kvDim);
    } else {
        q = q_proj->forward(x);
        k = k_proj->forward(x);
    }
    if (m_wholeQkNorm) {  // OLMo 2: over the whole projection, before splitting into heads
        q = q_norm->forward(q);
        k = k_norm->forward(k);
    }
    q = q.reshape({b, t, m_heads, m_headDim});    // (B, T, H, D)
    k = k.reshape({b, t, m_kvHeads, m_headDim});  // (B, T, K, D)
    if (q_norm && !m_wholeQkNorm) {
        q = q_norm->forward(q);
        k = k_norm->forward(k);
    }
    q = q.transpose(1, 2);  // (B, H, T, D)
    k = k.transpose(1, 2);  // (B, K, T, D)
    if (!v.defined())
        v = v_proj->forward(x);
    v = v.reshape({b, t, m_kvHeads, m_headDim}).transpose(1, 2);  // (B, K, T, D)
    if (rope.cos.defined()) {  // NoPE layers (SmolLM3) get empty tables
        q = applyRope(q, rope);
        k = applyRope(k, rope);
    }
    if (cacheK) {
        if (cacheK->defined()) {
            k = at::cat({*cacheK, k}, 2);  // (B, K, S, D)
            v = at::cat({*cacheV, v}, 2);
        }
        *cacheK = k;
        *cacheV = v;
    }
    const int64_t groups = m_heads / m_kvHeads;
    at::Tensor kr = repeatKv(k, groups), vr = repeatKv(v, groups);              // (B, H, S, D)
    at::Tensor scores = at::matmul(q, kr.transpose(-2, -1)) / m_scoreDivisor;  // (B, H, T, S)
    if (m_softcap > 0)
        scores = at::tanh(scores / m_softcap) * m_softcap;
    // The mask is in fp32/fp64: a large negative value that bf16/fp16 could not hold.
    scores = scores.to(mask.scalar_type()) + mask;
    at::Tensor probs = at::softmax(scores, -1).to(q.scalar_type());
    at::Tensor out = at::matmul(probs, vr);                                     // (B, H, T, D)
    out = out.transpose(1, 2).reshape({b, t, m_heads * m_headDim});
    return o_proj->forward(out);                                                // (B, T, C)
}

namespace {
// The slot of `name` among the layer's projections; an error for a name it lacks.
LinearLayer* attentionSlot(AttentionImpl& a, const std::string& name)
{
    LinearLayer* slot = findSlot(name, {{"q_proj", &a.q_proj}, {"k_proj", &a.k_proj}, {"v_proj", &a.v_proj},
                                        {"o_proj", &a.o_proj}, {"qkv_proj", &a.qkv_proj}});
    if (!*slot)
        fail("this attention has no projection named '" + name + "'");
    return slot;
}
} // namespace

void AttentionImpl::setProjection(const std::string& name, LinearLayer layer)
{
    LinearLayer* slot = attentionSlot(*this, name);
    *slot = replace_module(name, layer);
}

LinearLayer AttentionImpl::projection(const std::string& name) const
{
    return *attentionSlot(*const_cast<AttentionImpl*>(this), name);
}

std::vector<std::string> AttentionImpl::projectionNames() const
{
    if (qkv_proj)
        return {"qkv_proj", "o_proj"};
    return {"q_proj", "k_proj", "v_proj", "o_proj"};
}

// ---- MLP -------------------------------------------------------------------------

MlpImpl::MlpImpl(const ModelConfig& c) : m_geluTanh(c.hiddenAct == "gelu_pytorch_tanh"), m_width(c.intermediateSize)
{
    if (archTraits(c.arch).fusedProjections) {
        gate_up_proj = register_module("gate_up_proj", std::make_shared<DenseLinearImpl>(
                                                           c.hiddenSize, 2 * c.intermediateSize, c.mlpBias));
    } else {
        gate_proj = register_module("gate_proj",
                                    std::make_shared<DenseLinearImpl>(c.hiddenSize, c.intermediateSize, c.mlpBias));
        up_proj = register_module("up_proj", std::make_shared<DenseLinearImpl>(c.hiddenSize, c.intermediateSize, c.mlpBias));
    }
    down_proj = register_module("down_proj", std::make_shared<DenseLinearImpl>(c.intermediateSize, c.hiddenSize, c.mlpBias));
}

at::Tensor MlpImpl::forward(const at::Tensor& x)
{
    // up before gate: with adapter dropout the two draw random numbers in this order
    // (as the engine always has), so seeded runs keep their exact results.
    at::Tensor up, gate;
    if (gate_up_proj) {  // Phi-3: gate is the first half of the fused output, up the second
        const at::Tensor both = gate_up_proj->forward(x);
        gate = both.narrow(-1, 0, m_width);
        up = both.narrow(-1, m_width, m_width);
    } else {
        up = up_proj->forward(x);
        gate = gate_proj->forward(x);
    }
    return down_proj->forward((m_geluTanh ? at::gelu(gate, "tanh") : at::silu(gate)) * up);
}

namespace {
LinearLayer* mlpSlot(MlpImpl& m, const std::string& name)
{
    LinearLayer* slot = findSlot(name, {{"gate_proj", &m.gate_proj}, {"up_proj", &m.up_proj},
                                        {"down_proj", &m.down_proj}, {"gate_up_proj", &m.gate_up_proj}});
    if (!*slot)
        fail("this MLP has no projection named '" + name + "'");
    return slot;
}
} // namespace

void MlpImpl::setProjection(const std::string& name, LinearLayer layer)
{
    LinearLayer* slot = mlpSlot(*this, name);
    *slot = replace_module(name, layer);
}

LinearLayer MlpImpl::projection(const std::string& name) const
{
    return *mlpSlot(*const_cast<MlpImpl*>(this), name);
}

std::vector<std::string> MlpImpl::projectionNames() const
{
    if (gate_up_proj)
        return {"gate_up_proj", "down_proj"};
    return {"gate_proj", "up_proj", "down_proj"};
}

// ---- Decoder layer ---------------------------------------------------------------

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c, bool withNorms, int64_t index,
                                   std::shared_ptr<RouterLog> routerLog)
{
    self_attn = register_module("self_attn", Attention(c));
    if (c.layerIsSparse(index))
        moe = register_module(archTraits(c.arch).moeBlockName, std::make_shared<MoeBlockImpl>(c, std::move(routerLog)));
    else
        mlp = register_module("mlp", Mlp(c));
    if (!withNorms)
        return;
    const bool offset = archTraits(c.arch).gemmaBlock;
    input_layernorm = register_module("input_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps, offset));
    post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps, offset));
}

at::Tensor DecoderLayerImpl::forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask,
                                     at::Tensor* cacheK, at::Tensor* cacheV)
{
    at::Tensor h = x + self_attn->forward(input_layernorm->forward(x), rope, mask, cacheK, cacheV);
    return h + feedForward(post_attention_layernorm->forward(h));
}

at::Tensor DecoderLayerImpl::feedForward(const at::Tensor& x) { return mlp ? mlp->forward(x) : moe->forward(x); }

// ---- Model -----------------------------------------------------------------------

at::Tensor buildAttentionMask(const at::Tensor& keyMask, int64_t newTokens, std::optional<int64_t> slidingWindow,
                              c10::ScalarType dtype)
{
    const int64_t s = keyMask.size(1), past = s - newTokens;
    auto idx = at::TensorOptions().dtype(at::kLong).device(keyMask.device());
    at::Tensor qIndex = at::arange(past, s, idx).view({newTokens, 1});  // (T, 1) absolute index
    at::Tensor kIndex = at::arange(0, s, idx).view({1, s});            // (1, S)
    at::Tensor allowed = kIndex <= qIndex;                               // (T, S)
    if (slidingWindow)
        allowed = allowed.logical_and(qIndex - kIndex < *slidingWindow);
    allowed = allowed.unsqueeze(0).logical_and(keyMask.to(at::kBool).unsqueeze(1));  // (B, T, S)
    const double minValue = std::numeric_limits<float>::lowest();
    at::Tensor zero = at::zeros({}, at::TensorOptions().dtype(dtype).device(keyMask.device()));
    return at::where(allowed, zero, at::full({}, minValue, zero.options())).unsqueeze(1);  // (B, 1, T, S)
}

LlamaModelImpl::LlamaModelImpl(const ModelConfig& c) : m_config(c)
{
    embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocabSize, c.hiddenSize));
    layers = register_module("layers", torch::nn::ModuleList());
    if (c.hasExperts())
        routerLog = std::make_shared<RouterLog>();
    for (int64_t i = 0; i < c.numHiddenLayers; ++i)
        layers->push_back(archTraits(c.arch).gemmaBlock   ? makeGemmaDecoderLayer(c)
                          : archTraits(c.arch).olmo2Block ? makeOlmo2DecoderLayer(c)
                                                          : std::make_shared<DecoderLayerImpl>(c, true, i, routerLog));
    norm = register_module("norm", RMSNorm(c.hiddenSize, c.rmsNormEps, archTraits(c.arch).gemmaBlock));
    norm->scaleInFloat = archTraits(c.arch).olmo2Block;
    m_invFreq = ropeInverseFrequencies(c);
    if (c.ropeScaling.type == "longrope")
        m_invFreqLong = ropeInverseFrequencies(c, /*longContext=*/true);
    if (c.ropeLocalTheta) {
        ModelConfig local = c;
        local.ropeTheta = *c.ropeLocalTheta;
        local.ropeScaling = RopeScaling{};
        m_invFreqLocal = ropeInverseFrequencies(local);
    }
}

at::Tensor LlamaModelImpl::forward(const at::Tensor& ids, const at::Tensor& attentionMask, KVCache* cache)
{
    return forwardEmbeddings(embed_tokens->forward(ids), attentionMask, cache);
}

namespace {
// (B, T) segment ids -> positions that restart at 0 where the segment changes.
at::Tensor segmentPositions(const at::Tensor& segmentIds)
{
    const int64_t t = segmentIds.size(1);
    at::Tensor idx = at::arange(t, segmentIds.options()).unsqueeze(0).expand_as(segmentIds);  // (B, T)
    at::Tensor boundary = at::ones_like(segmentIds, at::kBool);
    if (t > 1)
        boundary.narrow(1, 1, t - 1).copy_(segmentIds.narrow(1, 1, t - 1) != segmentIds.narrow(1, 0, t - 1));
    at::Tensor start = std::get<0>(at::cummax(at::where(boundary, idx, at::zeros_like(idx)), 1));
    return idx - start;
}

// Additive (B, 1, T, T) mask for packed rows: causal, same segment, not padding.
at::Tensor buildSegmentMask(const at::Tensor& segmentIds, std::optional<int64_t> slidingWindow, c10::ScalarType dtype)
{
    const int64_t t = segmentIds.size(1);
    auto idx = at::TensorOptions().dtype(at::kLong).device(segmentIds.device());
    at::Tensor q = at::arange(t, idx).view({t, 1}), k = at::arange(t, idx).view({1, t});
    at::Tensor allowed = (k <= q);
    if (slidingWindow)
        allowed = allowed.logical_and(q - k < *slidingWindow);
    at::Tensor same = segmentIds.unsqueeze(2) == segmentIds.unsqueeze(1);                 // (B, T, T)
    allowed = allowed.unsqueeze(0).logical_and(same).logical_and((segmentIds != 0).unsqueeze(1));
    // A padding query would see no key at all; let it see itself so softmax stays finite.
    allowed = allowed.logical_or(at::eye(t, idx.dtype(at::kBool)).unsqueeze(0));
    const double minValue = std::numeric_limits<float>::lowest();
    at::Tensor zero = at::zeros({}, at::TensorOptions().dtype(dtype).device(segmentIds.device()));
    return at::where(allowed, zero, at::full({}, minValue, zero.options())).unsqueeze(1);
}
} // namespace

at::Tensor LlamaModelImpl::forwardEmbeddings(const at::Tensor& embeds, const at::Tensor& attentionMask, KVCache* cache,
                                             const at::Tensor& segmentIds)
{
    const int64_t b = embeds.size(0), t = embeds.size(1);
    const auto longOpts = at::TensorOptions().dtype(at::kLong).device(embeds.device());
    at::Tensor h = embeds;  // (B, T, C)
    const auto dtype = h.scalar_type();
    if (archTraits(m_config.arch).gemmaBlock)  // Gemma: sqrt(hidden), rounded to the compute dtype first
        h = h * at::scalar_tensor(std::sqrt(double(m_config.hiddenSize)), h.options());
    if (m_invFreq.device() != embeds.device())
        m_invFreq = m_invFreq.to(embeds.device());
    if (m_invFreqLocal.defined() && m_invFreqLocal.device() != embeds.device())
        m_invFreqLocal = m_invFreqLocal.to(embeds.device());
    if (m_invFreqLong.defined() && m_invFreqLong.device() != embeds.device())
        m_invFreqLong = m_invFreqLong.to(embeds.device());

    // Full-attention and windowed layers each get their mask (and, for Gemma 3, their RoPE).
    bool anyFull = false, anyWindowed = false;
    for (int64_t i = 0; i < int64_t(layers->size()); ++i)
        (m_config.layerIsSliding(i) ? anyWindowed : anyFull) = true;
    const std::optional<int64_t> noWindow;
    at::Tensor keyMask, positions, fullMask, windowMask;
    if (segmentIds.defined()) {
        if (cache)
            fail("packed sequences (segment ids) cannot be combined with a KV cache");
        at::Tensor seg = segmentIds.to(longOpts);
        positions = segmentPositions(seg);
        if (anyFull)
            fullMask = buildSegmentMask(seg, noWindow, accumulationType(dtype));
        if (anyWindowed)
            windowMask = buildSegmentMask(seg, m_config.slidingWindow, accumulationType(dtype));
    } else {
        at::Tensor newMask = attentionMask.defined() ? attentionMask.to(longOpts) : at::ones({b, t}, longOpts);
        keyMask = (cache && cache->length() > 0) ? at::cat({cache->keyMask, newMask}, 1) : newMask;  // (B, S)
        // Positions count real tokens only, so left padding does not shift them.
        positions = (keyMask.cumsum(1) - 1).clamp_min(0).narrow(1, keyMask.size(1) - t, t);  // (B, T)
        if (anyFull)
            fullMask = buildAttentionMask(keyMask, t, noWindow, accumulationType(dtype));
        if (anyWindowed)
            windowMask = buildAttentionMask(keyMask, t, m_config.slidingWindow, accumulationType(dtype));
    }
    // LongRoPE switches to its long factors for the whole forward once the furthest
    // position passes the original length, as transformers' longrope_frequency_update
    // (max(position_ids) + 1 > original_max_position_embeddings).
    const bool longContext = m_invFreqLong.defined() && positions.numel() > 0 &&
                             positions.max().item<int64_t>() + 1 > m_config.ropeScaling.originalMaxPositionEmbeddings;
    const RopeTables globalRope =
        ropeTables(positions, longContext ? m_invFreqLong : m_invFreq, dtype, ropeAttentionScaling(m_config));
    const RopeTables localRope = m_invFreqLocal.defined() ? ropeTables(positions, m_invFreqLocal, dtype) : globalRope;
    const RopeTables noRope;
    if (routerLog && routerLog->collecting) {  // this forward's real tokens, for load balancing
        const at::Tensor real = segmentIds.defined() ? (segmentIds.to(longOpts) != 0)
                                                     : keyMask.narrow(1, keyMask.size(1) - t, t);
        routerLog->currentMask = real.reshape({-1}).to(at::kFloat);
    }
    if (cache) {
        cache->keys.resize(layers->size());
        cache->values.resize(layers->size());
    }
    try {
        const bool recompute = gradientCheckpointing && !cache && is_training() && at::GradMode::is_enabled();
        for (size_t i = 0; i < layers->size(); ++i) {
            const bool windowed = m_config.layerIsSliding(int64_t(i));
            const at::Tensor& mask = windowed ? windowMask : fullMask;
            const RopeTables& rope = !m_config.layerUsesRope(int64_t(i)) ? noRope : windowed ? localRope : globalRope;
            if (recompute) {
                DecoderLayerImpl* l = &layer(i);
                // The router log's token mask of this forward, for the recomputation too.
                std::shared_ptr<RouterLog> log = routerLog;
                const at::Tensor tokenMask = log ? log->currentMask : at::Tensor();
                h = checkpointed(
                    [l, rope, mask, log, tokenMask](const at::Tensor& x) {
                        if (log)
                            log->currentMask = tokenMask;
                        return l->forward(x, rope, mask, nullptr, nullptr);
                    },
                    h);
                continue;
            }
            h = layer(i).forward(h, rope, mask, cache ? &cache->keys[i] : nullptr, cache ? &cache->values[i] : nullptr);
        }
    } catch (...) {
        if (cache)
            cache->clear();  // some layers grew and others did not: the cache is no longer consistent
        throw;
    }
    if (cache)
        cache->keyMask = keyMask;
    return norm->forward(h);
}

// ---- Causal LM -------------------------------------------------------------------

CausalLMImpl::CausalLMImpl(const ModelConfig& c) : m_config(c)
{
    model = register_module("model", LlamaModel(c));
    if (!c.tieWordEmbeddings)
        lm_head = register_module("lm_head", std::make_shared<DenseLinearImpl>(c.hiddenSize, c.vocabSize, false));
}

at::Tensor CausalLMImpl::tokenEmbeddings(const at::Tensor& ids)
{
    at::Tensor embeds = model->embed_tokens->forward(ids);  // (B, T, C)
    if (neftuneNoiseAlpha <= 0 || !is_training())
        return embeds;
    const double magnitude = neftuneNoiseAlpha / std::sqrt(double(embeds.size(1) * embeds.size(2)));
    return embeds + at::empty_like(embeds).uniform_(-magnitude, magnitude);
}

at::Tensor CausalLMImpl::hidden(const at::Tensor& ids, const at::Tensor& attentionMask, KVCache* cache,
                                const at::Tensor& segmentIds)
{
    VirtualTokens virt = activeVirtualTokens();
    const bool sequenceStart = !cache || cache->length() == 0;
    if (!virt || !sequenceStart)
        return model->forwardEmbeddings(tokenEmbeddings(ids), attentionMask, cache, segmentIds);
    if (segmentIds.defined())
        fail("packed sequences cannot be combined with virtual tokens (prompt or prefix tuning); turn packing off");

    const int64_t b = ids.size(0), t = ids.size(1), n = virt->count();
    const auto longOpts = at::TensorOptions().dtype(at::kLong).device(ids.device());
    at::Tensor realMask = attentionMask.defined() ? attentionMask.to(longOpts) : at::ones({b, t}, longOpts);
    at::Tensor embeds = tokenEmbeddings(ids);       // (B, T, C)
    at::Tensor prompt = virt->promptEmbeddings(b);          // (B, N, C) or undefined
    if (prompt.defined()) {
        at::Tensor all = at::cat({prompt.to(embeds.scalar_type()), embeds}, 1);  // (B, N + T, C)
        at::Tensor mask = at::cat({at::ones({b, n}, longOpts), realMask}, 1);
        return model->forwardEmbeddings(all, mask, cache).narrow(1, n, t);
    }
    KVCache local;
    KVCache* target = cache ? cache : &local;
    target->clear();
    if (!virt->prefixKeyValues(b, target->keys, target->values))
        fail("virtual tokens gave neither prompt embeddings nor prefix keys/values");
    for (auto& k : target->keys)
        k = k.to(embeds.scalar_type());
    for (auto& v : target->values)
        v = v.to(embeds.scalar_type());
    target->keyMask = at::ones({b, n}, longOpts);
    return model->forwardEmbeddings(embeds, realMask, target);
}

void CausalLMImpl::addVirtualTokens(const std::string& name, VirtualTokens tokens)
{
    for (const auto& [existing, _] : m_virtualTokens)
        if (existing == name)
            fail("virtual tokens named '" + name + "' are already attached");
    register_module("virtual_tokens_" + name, tokens);
    m_virtualTokens.emplace_back(name, std::move(tokens));
}

void CausalLMImpl::removeVirtualTokens(const std::string& name)
{
    std::erase_if(m_virtualTokens, [&](const auto& entry) { return entry.first == name; });
    if (named_children().contains("virtual_tokens_" + name))
        unregister_module("virtual_tokens_" + name);
}

VirtualTokens CausalLMImpl::activeVirtualTokens() const
{
    for (const auto& [_, tokens] : m_virtualTokens)
        if (tokens->enabled)
            return tokens;
    return nullptr;
}

at::Tensor CausalLMImpl::outputEmbeddingWeight()
{
    if (!lm_head)
        return model->embed_tokens->weight;
    auto* dense = lm_head->as<DenseLinearImpl>();
    if (!dense)
        fail("lm_head is wrapped by an adapter; its dense weight is not directly available");
    return dense->weight;
}

void CausalLMImpl::collectRouterLogits()
{
    if (!model->routerLog)
        return;
    model->routerLog->clear();
    model->routerLog->collecting = true;
}

at::Tensor CausalLMImpl::takeRouterAuxLoss(double weight)
{
    if (!model->routerLog)
        return {};
    RouterLog& log = *model->routerLog;
    log.collecting = false;
    // Every forward since collectRouterLogits() pooled, each layer's logits with its forward's mask.
    at::Tensor loss = loadBalancingLoss(log.logits, log.masks, m_config.numExpertsPerTok);
    if (loss.defined() && !loss.requires_grad() && weight > 0 && model->gradientCheckpointing) {
        // Checkpointed first passes: the recomputations in backward train it (moe_block.h).
        auto [load, tokens] = expertLoadOf(log.logits, log.masks, m_config.numExpertsPerTok);
        log.expertLoad = load;
        log.pooledTokens = tokens;
        log.recomputeWeight = weight;
    }
    log.logits.clear();
    log.masks.clear();
    return loss;
}

at::Tensor CausalLMImpl::logitsFromHidden(const at::Tensor& h)
{
    at::Tensor logits = lm_head ? lm_head->forward(h) : at::linear(h, model->embed_tokens->weight);
    if (m_config.finalLogitSoftcap > 0)  // Gemma 2
        logits = at::tanh(logits / m_config.finalLogitSoftcap) * m_config.finalLogitSoftcap;
    return logits;
}

at::Tensor CausalLMImpl::forward(const at::Tensor& ids, const at::Tensor& attentionMask, KVCache* cache)
{
    return logitsFromHidden(hidden(ids, attentionMask, cache));
}

void CausalLMImpl::initializeWeights(uint64_t seed)
{
    torch::NoGradGuard noGrad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto& p : named_parameters()) {
        const std::string& name = p.key();
        at::Tensor& w = p.value();
        if (name.find("norm.weight") != std::string::npos || name.find("layernorm.weight") != std::string::npos)
            w.fill_(archTraits(m_config.arch).gemmaBlock ? 0.0 : 1.0);  // Gemma's norms scale by 1 + w
        else if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0)
            w.zero_();
        else
            w.copy_(at::normal(0.0, 0.02, w.sizes(), gen));
    }
}

} // namespace ft::model
