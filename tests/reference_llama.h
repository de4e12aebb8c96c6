// An independent reference for the golden forward tests: the Llama-family decoder
// (Llama 2/3, Mistral, Qwen2) written from the equations of Hugging Face's
// modeling_llama.py, modeling_mistral.py and modeling_qwen2.py as plain loops in
// double precision. It shares no code with the engine: no libtorch, no ModelConfig,
// its own RoPE tables (linear and Llama 3.1 scaling written piecewise, as the Llama
// 3.1 paper states them, rather than as the engine's tensor expression), its own
// grouped-query attention, causal mask and sliding window (a query at position t
// sees keys s with t - s < window, as transformers' sliding_window_overlay), and
// its own RMSNorm and SwiGLU MLP. One sequence at a time, no batching, no cache.
// Gemma 2 / Gemma 3 (modeling_gemma2.py, modeling_gemma3.py) are options of the same
// loops: (1 + w) norms, the extra norms after attention and around the MLP, GELU
// (tanh form written out), sqrt(hidden) embedding scale, query_pre_attn_scalar,
// soft-capping as cap * tanh(x / cap), per-layer windows and a local RoPE base;
// SmolLM3's NoPE layers simply skip the rotation; OLMo 2 moves the norms after
// the sublayers and normalizes the whole q and k projections; Phi-3 (modeling_phi3.py)
// reads its fused projections as row blocks, rotates part of each head and scales
// RoPE by LongRoPE's per-pair factors; the mixtures of experts (Mixtral, Qwen3-MoE,
// OLMoE) route each token on its own, running its k chosen experts in a plain loop.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fttest::reference {

using Vec = std::vector<double>;

struct Config {
    int vocab = 0, hidden = 0, intermediate = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0;
    double eps = 1e-6, theta = 10000.0;
    std::string ropeType;  // "", "linear" or "llama3"
    double factor = 1.0, lowFreqFactor = 1.0, highFreqFactor = 4.0;
    double originalMaxPositions = 8192.0;
    int slidingWindow = 0;  // 0: every earlier key is visible
    bool tied = false;      // the output projection is the input embedding
    bool qkNorm = false;    // Qwen3: RMSNorm over each head's q and k (q_norm, k_norm) before RoPE
    // Gemma
    bool gemma = false;         // (1 + w) norms, post-attention and pre/post-feed-forward norms, sqrt(C) embedding scale
    bool geluTanh = false;      // GELU (tanh approximation) instead of SiLU in the gated MLP
    double attnScalar = 0;      // scores * attnScalar^-1/2; 0 = headDim
    double attnSoftcap = 0;     // 0 = off
    double finalSoftcap = 0;    // 0 = off
    std::vector<bool> slidingLayers;  // empty: every layer windowed when slidingWindow > 0
    double localTheta = 0;      // windowed layers' RoPE base, without scaling; 0 = as the others
    std::vector<bool> ropeLayers;  // SmolLM3: per layer, false = no positional encoding; empty = all use RoPE
    bool olmo2 = false;  // norms after attention and MLP (no input norm), q_norm / k_norm over whole projections
    // Phi-3 (modeling_phi3.py): qkv_proj and gate_up_proj read as row blocks, RoPE on the
    // first rotaryDim of each head only (0 = all), longrope (ropeType "longrope"): pair i's
    // frequency divided by longFactors[i] past originalMaxPositions tokens, shortFactors[i]
    // otherwise, and the rotated values multiplied by attentionFactor.
    bool fused = false;
    int rotaryDim = 0;
    std::vector<double> shortFactors, longFactors;
    double attentionFactor = 1.0;
    bool wholeQkNorm = false;  // OLMoE: Llama's pre-norm layer with q_norm / k_norm over whole projections
    // Mixture of experts (modeling_mixtral.py, modeling_qwen3_moe.py, modeling_olmoe.py):
    // in a sparse layer the router <block>.gate scores the experts, softmax, the topK
    // best kept (renormalized when normTopk), each a gated MLP of expertWidth.
    int experts = 0, topK = 0, expertWidth = 0;
    bool normTopk = true;
    std::vector<bool> sparseLayers;  // empty: every layer sparse when experts > 0
    std::string moeBlock = "mlp";    // Mixtral: block_sparse_moe
    bool w123 = false;               // Mixtral's expert names w1 (gate), w3 (up), w2 (down)
};

// Tensors by Hugging Face name, row-major; a missing bias simply is not there.
class Weights {
public:
    std::map<std::string, Vec> tensors;
    const Vec& at(const std::string& name) const
    {
        auto it = tensors.find(name);
        if (it == tensors.end())
            throw std::runtime_error("reference: no tensor " + name);
        return it->second;
    }
    const Vec* find(const std::string& name) const
    {
        auto it = tensors.find(name);
        return it == tensors.end() ? nullptr : &it->second;
    }
};

// y = W x + b for W (out, in) row-major.
inline Vec linear(const Vec& w, const Vec* b, const Vec& x, int out, int in)
{
    Vec y(out, 0.0);
    for (int o = 0; o < out; ++o) {
        double s = b ? (*b)[o] : 0.0;
        for (int i = 0; i < in; ++i)
            s += w[size_t(o) * in + i] * x[i];
        y[o] = s;
    }
    return y;
}

inline Vec rmsNorm(const Vec& x, const Vec& weight, double eps, bool unitOffset = false)
{
    double meanSquare = 0.0;
    for (double v : x)
        meanSquare += v * v;
    meanSquare /= double(x.size());
    const double scale = 1.0 / std::sqrt(meanSquare + eps);
    Vec y(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        y[i] = (unitOffset ? 1.0 + weight[i] : weight[i]) * x[i] * scale;
    return y;
}

// Rotation frequency of each of the rotaryDim/2 pairs, for a sequence of `length` tokens.
inline Vec ropeFrequencies(const Config& c, int length)
{
    const double twoPi = 2.0 * std::acos(-1.0);
    const int dim = c.rotaryDim > 0 ? c.rotaryDim : c.headDim;
    Vec f(dim / 2);
    for (int i = 0; i < dim / 2; ++i) {
        double freq = 1.0 / std::pow(c.theta, 2.0 * i / dim);
        if (c.ropeType == "longrope") {
            freq /= (length > c.originalMaxPositions ? c.longFactors : c.shortFactors).at(size_t(i));
        } else if (c.ropeType == "linear") {
            freq /= c.factor;
        } else if (c.ropeType == "llama3") {
            const double wavelength = twoPi / freq;
            const double longest = c.originalMaxPositions / c.lowFreqFactor;    // beyond: fully scaled
            const double shortest = c.originalMaxPositions / c.highFreqFactor;  // below: kept
            if (wavelength > longest) {
                freq /= c.factor;
            } else if (wavelength >= shortest) {
                const double smooth = (c.originalMaxPositions / wavelength - c.lowFreqFactor) /
                                      (c.highFreqFactor - c.lowFreqFactor);
                freq = (1.0 - smooth) * freq / c.factor + smooth * freq;
            }
        }
        f[i] = freq;
    }
    return f;
}

// Rotates each head of `v` (heads x headDim) in place: pair (i, i + R/2) of its first
// R = 2 * freqs.size() values, scaled by `scale`; the values after R are left alone.
inline void rotate(Vec& v, int heads, int headDim, const Vec& freqs, int position, double scale = 1.0)
{
    const int half = int(freqs.size());
    for (int h = 0; h < heads; ++h) {
        double* x = v.data() + size_t(h) * headDim;
        for (int i = 0; i < half; ++i) {
            const double angle = position * freqs[i], c = std::cos(angle), s = std::sin(angle);
            const double a = x[i], b = x[i + half];
            x[i] = scale * (a * c - b * s);
            x[i + half] = scale * (b * c + a * s);
        }
    }
}

// Rows [first, first + count) of a row-major (rows x cols) matrix.
inline Vec rows(const Vec& m, int first, int count, int cols)
{
    return Vec(m.begin() + size_t(first) * cols, m.begin() + size_t(first + count) * cols);
}

// Logits (T x vocab, row-major) of every position of `ids`.
inline Vec forward(const Config& c, const Weights& w, const std::vector<int64_t>& ids)
{
    const int T = int(ids.size()), C = c.hidden, D = c.headDim;
    const bool off = c.gemma;  // norms scale by 1 + w
    Config localConfig = c;
    if (c.localTheta > 0)
        localConfig.theta = c.localTheta, localConfig.ropeType.clear();
    const Vec globalFreqs = ropeFrequencies(c, T), localFreqs = ropeFrequencies(localConfig, T);
    const double ropeScale = c.ropeType == "longrope" ? c.attentionFactor : 1.0;
    const double scoreScale = 1.0 / std::sqrt(c.attnScalar > 0 ? c.attnScalar : double(D));
    auto softcap = [](double v, double cap) { return cap > 0 ? cap * std::tanh(v / cap) : v; };
    std::vector<Vec> x(T);
    for (int t = 0; t < T; ++t) {
        x[t] = Vec(w.at("model.embed_tokens.weight").begin() + ids[t] * C,
                   w.at("model.embed_tokens.weight").begin() + (ids[t] + 1) * C);
        if (c.gemma)
            for (double& v : x[t])
                v *= std::sqrt(double(C));
    }
    for (int l = 0; l < c.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        const bool windowed = c.slidingWindow > 0 && (c.slidingLayers.empty() || c.slidingLayers[size_t(l)]);
        const Vec& freqs = windowed ? localFreqs : globalFreqs;
        auto proj = [&](const std::string& name, const Vec& in, int out, int inDim) {
            if (c.fused) {  // Phi-3: q, k, v are row blocks of qkv_proj; gate, up of gate_up_proj
                const int Q = c.heads * D, K = c.kvHeads * D;
                const std::map<std::string, std::pair<std::string, int>> block{
                    {"self_attn.q_proj", {"self_attn.qkv_proj", 0}},
                    {"self_attn.k_proj", {"self_attn.qkv_proj", Q}},
                    {"self_attn.v_proj", {"self_attn.qkv_proj", Q + K}},
                    {"mlp.gate_proj", {"mlp.gate_up_proj", 0}},
                    {"mlp.up_proj", {"mlp.gate_up_proj", c.intermediate}}};
                if (auto it = block.find(name); it != block.end())
                    return linear(rows(w.at(p + it->second.first + ".weight"), it->second.second, out, inDim), nullptr,
                                  in, out, inDim);
            }
            return linear(w.at(p + name + ".weight"), w.find(p + name + ".bias"), in, out, inDim);
        };
        std::vector<Vec> q(T), k(T), v(T);
        for (int t = 0; t < T; ++t) {
            const Vec h = c.olmo2 ? x[t] : rmsNorm(x[t], w.at(p + "input_layernorm.weight"), c.eps, off);
            q[t] = proj("self_attn.q_proj", h, c.heads * D, C);
            k[t] = proj("self_attn.k_proj", h, c.kvHeads * D, C);
            v[t] = proj("self_attn.v_proj", h, c.kvHeads * D, C);
            if (c.olmo2 || c.wholeQkNorm) {  // one norm over all heads' values at once
                q[t] = rmsNorm(q[t], w.at(p + "self_attn.q_norm.weight"), c.eps);
                k[t] = rmsNorm(k[t], w.at(p + "self_attn.k_norm.weight"), c.eps);
            }
            if (c.qkNorm) {  // each head's D values normalized on their own
                for (int h = 0; h < c.heads; ++h) {
                    const Vec head(q[t].begin() + h * D, q[t].begin() + (h + 1) * D);
                    const Vec normed = rmsNorm(head, w.at(p + "self_attn.q_norm.weight"), c.eps, off);
                    std::copy(normed.begin(), normed.end(), q[t].begin() + h * D);
                }
                for (int h = 0; h < c.kvHeads; ++h) {
                    const Vec head(k[t].begin() + h * D, k[t].begin() + (h + 1) * D);
                    const Vec normed = rmsNorm(head, w.at(p + "self_attn.k_norm.weight"), c.eps, off);
                    std::copy(normed.begin(), normed.end(), k[t].begin() + h * D);
                }
            }
            if (c.ropeLayers.empty() || c.ropeLayers[size_t(l)]) {
                rotate(q[t], c.heads, D, freqs, t, ropeScale);
                rotate(k[t], c.kvHeads, D, freqs, t, ropeScale);
            }
        }
        const int group = c.heads / c.kvHeads;
        for (int t = 0; t < T; ++t) {
            Vec attended(size_t(c.heads) * D, 0.0);
            for (int h = 0; h < c.heads; ++h) {
                const int kvh = h / group;
                std::vector<double> scores;
                int first = 0;
                if (windowed)
                    first = std::max(0, t - c.slidingWindow + 1);
                double top = -1e300;
                for (int s = first; s <= t; ++s) {
                    double dot = 0.0;
                    for (int d = 0; d < D; ++d)
                        dot += q[t][size_t(h) * D + d] * k[s][size_t(kvh) * D + d];
                    scores.push_back(softcap(dot * scoreScale, c.attnSoftcap));
                    top = std::max(top, scores.back());
                }
                double total = 0.0;
                for (double& e : scores)
                    total += (e = std::exp(e - top));
                for (int s = first; s <= t; ++s)
                    for (int d = 0; d < D; ++d)
                        attended[size_t(h) * D + d] += scores[s - first] / total * v[s][size_t(kvh) * D + d];
            }
            Vec out = proj("self_attn.o_proj", attended, C, c.heads * D);
            if (c.gemma || c.olmo2)
                out = rmsNorm(out, w.at(p + "post_attention_layernorm.weight"), c.eps, c.gemma);
            for (int i = 0; i < C; ++i)
                x[t][i] += out[i];
            const Vec h = c.olmo2   ? x[t]
                          : c.gemma ? rmsNorm(x[t], w.at(p + "pre_feedforward_layernorm.weight"), c.eps, true)
                                    : rmsNorm(x[t], w.at(p + "post_attention_layernorm.weight"), c.eps);
            // The gated MLP under `prefix` ("mlp." or an expert's), `width` wide.
            auto gatedMlp = [&](const std::string& prefix, int width, const char* g, const char* u, const char* d) {
                Vec gate = proj(prefix + g, h, width, C);
                const Vec up = proj(prefix + u, h, width, C);
                const double k = std::sqrt(2.0 / std::acos(-1.0));
                for (int i = 0; i < width; ++i) {
                    const double x = gate[i];
                    const double act = c.geluTanh ? 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)))
                                                  : x / (1.0 + std::exp(-x));  // GELU-tanh or SiLU
                    gate[i] = act * up[i];
                }
                return proj(prefix + d, gate, C, width);
            };
            const bool sparse = c.experts > 0 && (c.sparseLayers.empty() || c.sparseLayers[size_t(l)]);
            Vec down(C, 0.0);
            if (!sparse) {
                down = gatedMlp("mlp.", c.intermediate, "gate_proj", "up_proj", "down_proj");
            } else {
                const Vec scores = proj(c.moeBlock + ".gate", h, c.experts, C);
                double top = -1e300, total = 0.0;
                for (double v : scores)
                    top = std::max(top, v);
                Vec prob(scores.size());
                for (size_t e = 0; e < scores.size(); ++e)
                    total += (prob[e] = std::exp(scores[e] - top));
                for (double& v : prob)
                    v /= total;
                std::vector<int> order(size_t(c.experts));
                for (int e = 0; e < c.experts; ++e)
                    order[size_t(e)] = e;
                std::sort(order.begin(), order.end(), [&](int a, int b) { return prob[size_t(a)] > prob[size_t(b)]; });
                double kept = 0.0;
                for (int j = 0; j < c.topK; ++j)
                    kept += prob[size_t(order[size_t(j)])];
                for (int j = 0; j < c.topK; ++j) {
                    const int e = order[size_t(j)];
                    const double weight = prob[size_t(e)] / (c.normTopk ? kept : 1.0);
                    const std::string prefix = c.moeBlock + ".experts." + std::to_string(e) + ".";
                    const Vec y = c.w123 ? gatedMlp(prefix, c.expertWidth, "w1", "w3", "w2")
                                         : gatedMlp(prefix, c.expertWidth, "gate_proj", "up_proj", "down_proj");
                    for (int i = 0; i < C; ++i)
                        down[i] += weight * y[i];
                }
            }
            if (c.gemma || c.olmo2)
                down = rmsNorm(down, w.at(p + "post_feedforward_layernorm.weight"), c.eps, c.gemma);
            for (int i = 0; i < C; ++i)
                x[t][i] += down[i];
        }
    }
    const Vec& head = c.tied ? w.at("model.embed_tokens.weight") : w.at("lm_head.weight");
    Vec logits;
    logits.reserve(size_t(T) * c.vocab);
    for (int t = 0; t < T; ++t) {
        Vec out = linear(head, nullptr, rmsNorm(x[t], w.at("model.norm.weight"), c.eps, off), c.vocab, C);
        for (double& v : out)
            v = softcap(v, c.finalSoftcap);
        logits.insert(logits.end(), out.begin(), out.end());
    }
    return logits;
}

} // namespace fttest::reference
