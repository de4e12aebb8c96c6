// NF4 quantization, dequantization and the 4-bit projection; see nf4.h.
#include "peft/nf4.h"

#include "peft/targets.h"
#include "peft/tensor_load_plan.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <map>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <torch/csrc/autograd/custom_function.h>


namespace ft::peft {

namespace {

constexpr int64_t kChunkBlocks = 1 << 14;  // blocks quantized at a time (1 Mi values): bounds the temporaries

at::Tensor codeTensor(c10::ScalarType dtype)
{
    const auto& c = nf4Codes();
    return at::tensor(std::vector<float>(c.begin(), c.end()), at::kFloat).to(dtype);
}

// (256, 2): the two code values a byte stands for, high nibble first.
at::Tensor byteTable(c10::ScalarType dtype, c10::Device device)
{
    at::Tensor codes = codeTensor(dtype);
    at::Tensor byte = at::arange(256, at::kLong);
    return at::stack({codes.index_select(0, at::floor_divide(byte, 16)), codes.index_select(0, byte.remainder(16))}, 1)
        .to(device);
}

// (15,) midpoints between neighbouring codes: bucketize gives the nearest code's index.
at::Tensor midpoints(c10::ScalarType dtype, c10::Device device)
{
    const auto& c = nf4Codes();
    std::vector<double> m;
    for (size_t i = 0; i + 1 < c.size(); ++i)
        m.push_back(0.5 * (double(c[i]) + double(c[i + 1])));
    return at::tensor(m, at::kDouble).to(dtype).to(device);
}

} // namespace

const std::array<float, 16>& nf4Codes()
{
    static const std::array<float, 16> codes = {
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
        -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
        0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
        0.7229568362236023f, 1.0f};
    return codes;
}

int64_t Nf4Tensor::storageBytes() const
{
    int64_t bytes = packed.numel();
    if (doubleQuant)
        bytes += absmaxCodes.numel() + absmaxScales.numel() * 4 + 4;
    else
        bytes += absmax.numel() * 4;
    return bytes;
}

Nf4Tensor Nf4Tensor::clone() const
{
    Nf4Tensor c = *this;
    for (at::Tensor* t : {&c.packed, &c.absmax, &c.absmaxCodes, &c.absmaxScales, &c.absmaxOffset})
        if (t->defined())
            *t = t->detach().clone();
    return c;
}

Nf4Tensor quantizeNf4(const at::Tensor& w, int64_t blockSize, bool doubleQuant)
{
    if (blockSize <= 0 || blockSize % 2 != 0)
        fail("NF4 block size must be a positive even number, got " + std::to_string(blockSize));
    if (!w.is_floating_point())
        fail("NF4 quantization needs a floating-point tensor, got " + std::string(c10::toString(w.scalar_type())));
    at::NoGradGuard noGrad;
    Nf4Tensor q;
    q.shape = w.sizes().vec();
    q.numel = w.numel();
    q.blockSize = blockSize;
    q.doubleQuant = doubleQuant;
    const int64_t nBlocks = q.blocks();
    const auto work = workType(w.scalar_type());
    const auto device = w.device();

    // Chunk by chunk, so that the temporaries stay a few MB however large the weight (a
    // QLoRA base is quantized while it loads, one projection at a time).
    const at::Tensor flat = w.detach().reshape(-1);
    const int64_t padded = nBlocks * blockSize;
    at::Tensor absmax = at::empty({nBlocks}, at::TensorOptions().dtype(work).device(device));
    q.packed = at::empty({padded / 2}, at::TensorOptions().dtype(at::kByte).device(device));
    const at::Tensor bounds = midpoints(work, device);
    for (int64_t start = 0; start < nBlocks; start += kChunkBlocks) {
        const int64_t n = std::min(kChunkBlocks, nBlocks - start);
        const int64_t first = start * blockSize, count = std::min(n * blockSize, q.numel - first);
        at::Tensor chunk = flat.narrow(0, first, count).to(work);
        if (!chunk.isfinite().all().item<bool>())
            fail("cannot quantize a tensor of shape " + shapeString(w.sizes()) + " to NF4: it holds inf or NaN values");
        if (count < n * blockSize)  // the last block, padded with zeros
            chunk = at::cat({chunk, at::zeros({n * blockSize - count}, chunk.options())});
        const at::Tensor blocks = chunk.view({n, blockSize});
        at::Tensor a = absmax.narrow(0, start, n);
        a.copy_(blocks.abs().amax(1));
        at::Tensor safe = at::where(a > 0, a, at::ones_like(a)).unsqueeze(1);
        at::Tensor normalized = (blocks / safe).clamp(-1.0, 1.0).reshape(-1);
        at::Tensor idx = at::bucketize(normalized, bounds).view({-1, 2});  // (n * blockSize / 2, 2) int64
        q.packed.narrow(0, start * blockSize / 2, n * blockSize / 2)
            .copy_((idx.select(1, 0) * 16 + idx.select(1, 1)).to(at::kByte));
    }

    at::Tensor absmax32 = absmax.to(at::kFloat);
    if (!doubleQuant) {
        q.absmax = absmax32;
        return q;
    }
    // Double quantization: centre on the mean, then int8 per block of 256 absmax values.
    const int64_t nb2 = (nBlocks + q.absmaxBlockSize - 1) / q.absmaxBlockSize;
    q.absmaxOffset = absmax32.mean();
    at::Tensor centered = absmax32 - q.absmaxOffset;
    if (nb2 * q.absmaxBlockSize > nBlocks)
        centered = at::cat({centered, at::zeros({nb2 * q.absmaxBlockSize - nBlocks}, centered.options())});
    at::Tensor c2 = centered.view({nb2, q.absmaxBlockSize});
    q.absmaxScales = c2.abs().amax(1) / 127.0;  // (nb2,)
    at::Tensor safe = at::where(q.absmaxScales > 0, q.absmaxScales, at::ones_like(q.absmaxScales)).unsqueeze(1);
    q.absmaxCodes = (c2 / safe).round().clamp(-127, 127).to(at::kChar).reshape(-1).narrow(0, 0, nBlocks).clone();
    return q;
}

at::Tensor nf4BlockAbsmax(const Nf4Tensor& q)
{
    if (!q.doubleQuant)
        return q.absmax;
    at::Tensor scales = q.absmaxScales.repeat_interleave(q.absmaxBlockSize).narrow(0, 0, q.absmaxCodes.numel());
    // Clamping at 0 only brings a decoded absmax closer to the true one (which is >= 0).
    return (q.absmaxCodes.to(at::kFloat) * scales + q.absmaxOffset).clamp_min(0.0);
}

at::Tensor nf4Indices(const Nf4Tensor& q)
{
    at::Tensor hi = at::floor_divide(q.packed, 16), lo = q.packed.remainder(16);
    return at::stack({hi, lo}, 1).reshape(-1).narrow(0, 0, q.numel);
}

at::Tensor dequantizeNf4(const Nf4Tensor& q, c10::ScalarType dtype)
{
    at::NoGradGuard noGrad;
    const auto work = workType(dtype);
    const int64_t nBlocks = q.blocks();
    at::Tensor table = byteTable(work, q.packed.device());                     // (256, 2)
    at::Tensor values = table.index_select(0, q.packed.to(at::kInt));          // (bytes, 2)
    values = values.view({nBlocks, q.blockSize}) * nf4BlockAbsmax(q).to(work).unsqueeze(1);
    return values.reshape(-1).narrow(0, 0, q.numel).view(q.shape).to(dtype);
}

// ---- Nf4Linear -------------------------------------------------------------------

namespace {

// y = x W^T with W held in NF4. Saves the 4-bit codes and scales, not the
// dequantized matrix: backward dequantizes again (QLoRA's memory trade).
struct Nf4MatmulFunction : public torch::autograd::Function<Nf4MatmulFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const Nf4Tensor& q)
    {
        ctx->save_for_backward({q.packed, q.absmax, q.absmaxCodes, q.absmaxScales, q.absmaxOffset});
        ctx->saved_data["shape"] = q.shape;
        ctx->saved_data["numel"] = q.numel;
        ctx->saved_data["blockSize"] = q.blockSize;
        ctx->saved_data["doubleQuant"] = q.doubleQuant;
        ctx->saved_data["absmaxBlockSize"] = q.absmaxBlockSize;
        return at::linear(x, dequantizeNf4(q, x.scalar_type()));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list gradOut)
    {
        if (!ctx->needs_input_grad(0))
            return {at::Tensor(), at::Tensor()};
        auto saved = ctx->get_saved_variables();
        Nf4Tensor q;
        q.packed = saved[0];
        q.absmax = saved[1];
        q.absmaxCodes = saved[2];
        q.absmaxScales = saved[3];
        q.absmaxOffset = saved[4];
        q.shape = ctx->saved_data["shape"].toIntVector();
        q.numel = ctx->saved_data["numel"].toInt();
        q.blockSize = ctx->saved_data["blockSize"].toInt();
        q.doubleQuant = ctx->saved_data["doubleQuant"].toBool();
        q.absmaxBlockSize = ctx->saved_data["absmaxBlockSize"].toInt();
        const at::Tensor& g = gradOut[0];                              // (..., out)
        return {at::matmul(g, dequantizeNf4(q, g.scalar_type())), at::Tensor()};  // (..., in)
    }
};

} // namespace

Nf4LinearImpl::Nf4LinearImpl(const model::DenseLinearImpl& dense, int64_t blockSize, bool doubleQuant)
{
    Nf4Tensor q = quantizeNf4(dense.weight, blockSize, doubleQuant);
    m_q = q;
    m_q.packed = register_buffer("weight_nf4", q.packed);
    if (doubleQuant) {
        m_q.absmaxCodes = register_buffer("weight_absmax_codes", q.absmaxCodes);
        m_q.absmaxScales = register_buffer("weight_absmax_scales", q.absmaxScales);
        m_q.absmaxOffset = register_buffer("weight_absmax_offset", q.absmaxOffset);
    } else {
        m_q.absmax = register_buffer("weight_absmax", q.absmax);
    }
    if (dense.bias.defined())
        bias = register_parameter("bias", dense.bias.detach(), dense.bias.requires_grad());
    train(dense.is_training());
}

at::Tensor Nf4LinearImpl::forwardNoBias(const at::Tensor& x) { return Nf4MatmulFunction::apply(x, m_q); }

at::Tensor Nf4LinearImpl::forward(const at::Tensor& x)
{
    at::Tensor y = forwardNoBias(x);
    return bias.defined() ? y + bias.to(y.scalar_type()) : y;
}

at::Tensor Nf4LinearImpl::dequantizedWeight(c10::ScalarType dtype) const { return dequantizeNf4(m_q, dtype); }

void Nf4LinearImpl::copyInto(const Nf4Tensor& source)
{
    if (source.shape != m_q.shape || source.blockSize != m_q.blockSize || source.doubleQuant != m_q.doubleQuant)
        fail("NF4 layer: the replacement weight has shape " + shapeString(source.shape) + " (block " +
             std::to_string(source.blockSize) + "), the layer holds " + shapeString(m_q.shape) + " (block " +
             std::to_string(m_q.blockSize) + ")");
    at::NoGradGuard noGrad;
    m_q.packed.copy_(source.packed);
    if (m_q.doubleQuant) {
        m_q.absmaxCodes.copy_(source.absmaxCodes);
        m_q.absmaxScales.copy_(source.absmaxScales);
        m_q.absmaxOffset.copy_(source.absmaxOffset);
    } else {
        m_q.absmax.copy_(source.absmax);
    }
}

void Nf4LinearImpl::requantize(const at::Tensor& w)
{
    if (w.sizes().vec() != m_q.shape)
        fail("NF4 layer: cannot store a weight of shape " + shapeString(w.sizes()) + " in a layer of shape " +
             shapeString(m_q.shape));
    copyInto(quantizeNf4(w.to(m_q.packed.device()), m_q.blockSize, m_q.doubleQuant));
}

void Nf4LinearImpl::restore(const Nf4Tensor& saved) { copyInto(saved); }

void Nf4LinearImpl::to(torch::Device device, torch::Dtype dtype, bool nonBlocking)
{
    for (auto& b : buffers(/*recurse=*/false))
        b.set_data(b.to(device, nonBlocking));
    if (bias.defined())
        bias.set_data(bias.to(device, dtype, nonBlocking));
}

void Nf4LinearImpl::to(torch::Dtype dtype, bool nonBlocking)
{
    if (bias.defined())
        bias.set_data(bias.to(dtype, nonBlocking));
}

void Nf4LinearImpl::to(torch::Device device, bool nonBlocking)
{
    for (auto& b : buffers(/*recurse=*/false))
        b.set_data(b.to(device, nonBlocking));
    if (bias.defined())
        bias.set_data(bias.to(device, nonBlocking));
}

int64_t quantizeDecoderProjections(model::CausalLM& model, int64_t blockSize, bool doubleQuant)
{
    int64_t replaced = 0;
    for (auto& slot : projectionSlots(model)) {
        if (slot.layer < 0 || slot.router)
            continue;  // lm_head stays dense, as in QLoRA, and so do the small expert routers
        auto dense = std::dynamic_pointer_cast<model::DenseLinearImpl>(slot.get());
        if (!dense)
            continue;
        slot.set(std::make_shared<Nf4LinearImpl>(*dense, blockSize, doubleQuant));
        ++replaced;
    }
    return replaced;
}

std::function<void(model::CausalLM&, const at::Tensor&)> quantizeWhileLoading(
    std::shared_ptr<StreamingQuantization> counts, int64_t blockSize, bool doubleQuant)
{
    // The slot each decoder projection's last parameter belongs to, found on the first call.
    auto lastParameter = std::make_shared<std::map<const c10::TensorImpl*, ProjectionSlot>>();
    auto mapped = std::make_shared<bool>(false);
    return [=](model::CausalLM& model, const at::Tensor& parameter) {
        if (!*mapped) {
            for (auto& slot : projectionSlots(model)) {
                if (slot.layer < 0 || slot.router)
                    continue;  // as quantizeDecoderProjections: lm_head and routers stay dense
                auto dense = std::dynamic_pointer_cast<model::DenseLinearImpl>(slot.get());
                if (dense)
                    (*lastParameter)[(dense->bias.defined() ? dense->bias : dense->weight).unsafeGetTensorImpl()] = slot;
            }
            *mapped = true;
        }
        const auto it = lastParameter->find(parameter.unsafeGetTensorImpl());
        if (it == lastParameter->end())
            return;
        ProjectionSlot slot = it->second;
        lastParameter->erase(it);
        auto dense = std::dynamic_pointer_cast<model::DenseLinearImpl>(slot.get());
        auto nf4 = std::make_shared<Nf4LinearImpl>(*dense, blockSize, doubleQuant);
        if (counts) {
            ++counts->projections;
            counts->weightElements += dense->weight.numel();
            counts->weightBytes += int64_t(dense->weight.nbytes());
            counts->nf4Bytes += nf4->storageBytes();
        }
        slot.set(nf4);
        dense.reset();
        slot = {};
#ifdef __GLIBC__
        // Quantizing a projection leaves free heap pages behind (its fp32 temporaries);
        // hand them back now, or they add up to hundreds of MB over a 1 B model's load.
        ::malloc_trim(0);
#endif
    };
}

int64_t dequantizeDecoderProjections(model::CausalLM& model, c10::ScalarType dtype)
{
    int64_t replaced = 0;
    for (auto& slot : projectionSlots(model)) {
        auto* nf4 = slot.get()->as<Nf4LinearImpl>();
        if (!nf4)
            continue;
        std::shared_ptr<model::DenseLinearImpl> dense;
        {
            model::SkipWeightInit skip;
            const bool withBias = nf4->bias.defined();
            dense = std::make_shared<model::DenseLinearImpl>(nf4->inFeatures(), nf4->outFeatures(), withBias);
        }
        dense->train(nf4->is_training());
        at::NoGradGuard noGrad;
        dense->weight.set_data(nf4->dequantizedWeight(dtype));
        dense->weight.set_requires_grad(false);
        if (nf4->bias.defined()) {
            dense->bias.set_data(nf4->bias.detach().to(dtype).clone());
            dense->bias.set_requires_grad(nf4->bias.requires_grad());
        }
        slot.set(dense);
        ++replaced;
    }
    return replaced;
}

} // namespace ft::peft
