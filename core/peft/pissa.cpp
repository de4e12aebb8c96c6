// PiSSA (Meng, Wang & Zhang 2024, "PiSSA: Principal Singular Values and Singular
// Vectors Adaptation of Large Language Models"): LoRA whose factors start from the
// principal part of the weight instead of zero. With W = U S V^T and s the LoRA
// scaling, A0 = sqrt(S_r / s) V_r^T (r, in) and B0 = U_r sqrt(S_r / s) (out, r), so
// s B0 A0 is W's best rank-r approximation; the adapter trains A and B from there
// while the base computes W - s B0 A0 (the residual). As in PEFT (tuners/lora/layer.py
// pissa_init), pissa_niter > 0 takes the fast randomized SVD (Halko et al. 2011, q = r
// and that many subspace iterations) instead of the exact one.
//
// The base weights are never modified: the wrapper keeps A0 and B0 frozen and adds
// s (B A x' - B0 A0 x), which is W_res x + s B A x' with W_res = W - s B0 A0 exactly
// PiSSA's function, so disabling the adapter gives the untouched base. For the same
// reason the saved adapter is plain LoRA over the original base, PEFT's conversion
// of a PiSSA adapter (save_pretrained's path_initial_model_for_weight_conversion):
// rank 2r with A' = [A; A0] and B' = [B, -B0], lora_alpha doubled (times sqrt 2 under
// rsLoRA) so the scaling stays alpha / r. PEFT, transformers and this studio load it
// as ordinary LoRA; loading it back as PiSSA (resuming) takes A0 and B0 from the file.
#include "peft/adapter_support.h"
#include "peft/lora.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace ft::peft {

namespace {

// Top-r singular triplets of w (out, in): U (out, r), S (r,), Vh (r, in).
std::tuple<at::Tensor, at::Tensor, at::Tensor> principalTriplets(const at::Tensor& w, int64_t r, int64_t niter,
                                                                 uint64_t seed)
{
    if (niter <= 0) {
        auto [u, s, vh] = at::linalg_svd(w, /*full_matrices=*/false);
        return {u.narrow(1, 0, r), s.narrow(0, 0, r), vh.narrow(0, 0, r)};
    }
    // Randomized range finder with subspace iteration, re-orthonormalized every pass.
    at::Tensor g = at::empty({w.size(1), r}, w.options());
    SeededInit(seed).normal(g, 1.0);
    at::Tensor q = std::get<0>(at::linalg_qr(at::matmul(w, g)));  // (out, r)
    for (int64_t i = 0; i < niter; ++i) {
        at::Tensor z = std::get<0>(at::linalg_qr(at::matmul(w.t(), q)));  // (in, r)
        q = std::get<0>(at::linalg_qr(at::matmul(w, z)));                  // (out, r)
    }
    auto [ub, s, vh] = at::linalg_svd(at::matmul(q.t(), w), /*full_matrices=*/false);  // (r, in)
    return {at::matmul(q, ub), s, vh};
}

class PissaLinearImpl : public LoraLinearImpl {
public:
    // `initialize` false leaves A0 = A and B0 = B at zero (the caller loads them).
    PissaLinearImpl(model::LinearLayer base, const LoraOptions& o, int64_t niter, bool initialize, const std::string& where)
        : LoraLinearImpl(std::move(base), o)
    {
        const int64_t r = o.r;
        if (r > std::min(inFeatures(), outFeatures()))
            fail(where + ": PiSSA rank r = " + std::to_string(r) + " exceeds the weight's smaller side (" +
                 std::to_string(std::min(inFeatures(), outFeatures())) + ")");
        at::NoGradGuard noGrad;
        at::Tensor a0 = at::zeros_like(lora_A->weight), b0 = at::zeros_like(lora_B->weight);
        if (initialize) {
            const auto work = workType(o.dtype);
            at::Tensor w = projectionWeight(base_layer, work, where);  // (out, in)
            auto [u, s, vh] = principalTriplets(w, r, niter, o.seed);
            at::Tensor root = at::sqrt(s / scaling());  // (r,)
            a0 = (root.unsqueeze(1) * vh).to(o.dtype);  // (r, in)
            b0 = (u * root.unsqueeze(0)).to(o.dtype);   // (out, r)
        }
        lora_A->weight.copy_(a0);
        lora_B->weight.copy_(b0);
        lora_A_init = register_buffer("lora_A_init", a0.clone());
        lora_B_init = register_buffer("lora_B_init", b0.clone());
    }

    at::Tensor forward(const at::Tensor& x) override
    {
        at::Tensor result = base_layer->forward(x);  // (..., out)
        if (!contributes())
            return result;
        const auto dtype = options().dtype;
        at::Tensor h = x.scalar_type() == dtype ? x : x.to(dtype);
        const bool drop = options().dropout > 0.0 && is_training();
        at::Tensor hd = drop ? at::dropout(h, options().dropout, /*train=*/true) : h;
        at::Tensor update = lora_B->forward(lora_A->forward(hd)) - at::linear(at::linear(h, lora_A_init), lora_B_init);
        return result + (update * scaling()).to(result.scalar_type());
    }

    at::Tensor deltaWeight(c10::ScalarType dtype) const override
    {
        at::NoGradGuard noGrad;
        const auto work = workType(dtype);
        at::Tensor ba = at::matmul(lora_B->weight.to(work), lora_A->weight.to(work));
        at::Tensor ba0 = at::matmul(lora_B_init.to(work), lora_A_init.to(work));
        return ((ba - ba0) * scaling()).to(dtype);
    }

    at::Tensor lora_A_init;  // (r, in) A0, frozen
    at::Tensor lora_B_init;  // (out, r) B0, frozen
};

class PissaAdapter : public LoraAdapter {
public:
    using LoraAdapter::LoraAdapter;

    PissaLinearImpl& pissa(size_t i) const { return static_cast<PissaLinearImpl&>(layer(i)); }

    // Plain LoRA of rank 2r over the original base.
    NamedTensors stateDict() override
    {
        NamedTensors out;
        for (size_t i = 0; i < entries().size(); ++i) {
            const PissaLinearImpl& l = pissa(i);
            const std::string& path = entries()[i].slot.path;
            out.emplace_back(peftKey(path, "lora_A.weight"), at::cat({l.lora_A->weight.detach(), l.lora_A_init}, 0));
            out.emplace_back(peftKey(path, "lora_B.weight"), at::cat({l.lora_B->weight.detach(), -l.lora_B_init}, 1));
        }
        return out;
    }

    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override
    {
        if (merged())
            fail("adapter '" + name() + "' is merged; unmerge it before loading " + source);
        NamedTensors staged = stateDict();  // fresh tensors of the saved shapes
        TensorLoadPlan plan(tensors, source);
        for (auto& [key, dest] : staged)
            plan.expect(key, dest);
        plan.apply();
        at::NoGradGuard noGrad;
        const int64_t r = settings().r;
        for (size_t i = 0; i < entries().size(); ++i) {
            PissaLinearImpl& l = pissa(i);
            const at::Tensor& a = staged[2 * i].second;  // (2r, in)
            const at::Tensor& b = staged[2 * i + 1].second;  // (out, 2r)
            l.lora_A->weight.copy_(a.narrow(0, 0, r));
            l.lora_A_init.copy_(a.narrow(0, r, r));
            l.lora_B->weight.copy_(b.narrow(1, 0, r));
            l.lora_B_init.copy_(-b.narrow(1, r, r));
        }
    }

    nlohmann::json configJson() const override
    {
        nlohmann::json j = LoraAdapter::configJson();
        j["r"] = 2 * settings().r;
        j["lora_alpha"] = settings().loraAlpha * (settings().useRslora ? std::sqrt(2.0) : 2.0);
        return j;
    }
};

} // namespace

std::unique_ptr<Adapter> applyPissa(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                    const ApplyContext& context)
{
    PeftSettings s = settings;
    if (s.useDora)
        fail("technique.use_dora: PiSSA does not combine with DoRA");
    checkLoraSettings(s);
    const int64_t niter = s.extra.value("pissa_niter", int64_t(0));
    const std::vector<std::string> targets = targetsOrDefault(s, model->config());
    std::vector<ProjectionSlot> slots = selectSlots(model, targets);
    const auto dtype = adapterTensorOptions(model).dtype().toScalarType();
    std::vector<LayerAdapter::Entry> entries;
    for (size_t i = 0; i < slots.size(); ++i) {
        auto layer = std::make_shared<PissaLinearImpl>(slots[i].get(), loraOptions(s, i, dtype), niter,
                                                       !context.tensorsFollow, slots[i].path);
        slots[i].set(layer);
        entries.push_back({slots[i], layer});
    }
    s.targetModules = targets;
    return std::make_unique<PissaAdapter>(name, std::move(s), model, std::move(entries), targets);
}

} // namespace ft::peft
