// NF4 storage of frozen weights: the code table (against bitsandbytes' list and its
// construction from normal quantiles), the quantization error (against closed-form
// bounds and a brute-force nearest code), exact round trips, the packing order, the
// memory of a QLoRA base, and the 4-bit layer's output and input gradient (against a
// dense layer holding the weight decoded by hand from the stored bytes and the table).
#include "model/llama.h"
#include "model/model_io.h"
#include "peft/nf4.h"
#include "peft/targets.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_nf4 {

using namespace ft;

namespace {

// Typed from bitsandbytes/functional.py, get_4bit_type("nf4") (QLoRA, arXiv:2305.14314).
const double kBitsandbytesNf4[16] = {-1.0,
                                     -0.6961928009986877,
                                     -0.5250730514526367,
                                     -0.39491748809814453,
                                     -0.28444138169288635,
                                     -0.18477343022823334,
                                     -0.09105003625154495,
                                     0.0,
                                     0.07958029955625534,
                                     0.16093020141124725,
                                     0.24611230194568634,
                                     0.33791524171829224,
                                     0.44070982933044434,
                                     0.5626170039176941,
                                     0.7229568362236023,
                                     1.0};

double largestGap()
{
    double gap = 0;
    for (int i = 0; i + 1 < 16; ++i)
        gap = std::max(gap, kBitsandbytesNf4[i + 1] - kBitsandbytesNf4[i]);
    return gap;  // 0.3038 (between -1 and -0.696)
}

at::Tensor randomNormal(at::IntArrayRef shape, uint64_t seed, c10::ScalarType dtype = at::kFloat)
{
    auto gen = at::detail::createCPUGenerator(seed);
    return at::normal(0.0, 1.0, shape, gen).to(dtype);
}

at::Tensor referenceCodes() { return at::tensor(at::ArrayRef<double>(kBitsandbytesNf4, 16), at::kDouble); }

// An NF4 tensor decoded by hand from its stored bytes, independently of the production
// decoder: element 2i in the high nibble of byte i, 2i+1 in the low; each block's
// absmax stored in fp32, or with double quantization as int8 code * fp32 scale of its
// group of 256 blocks + fp32 offset (computed in fp32, as stored); value = the
// bitsandbytes table entry times that absmax.
at::Tensor tableDequantize(const peft::Nf4Tensor& q, c10::ScalarType dtype)
{
    const at::Tensor packed = q.packed.contiguous();
    const uint8_t* bytes = packed.data_ptr<uint8_t>();
    std::vector<float> absmax(size_t(q.blocks()));
    for (int64_t b = 0; b < q.blocks(); ++b) {
        if (!q.doubleQuant) {
            absmax[size_t(b)] = q.absmax[b].item<float>();
            continue;
        }
        const float code = float(q.absmaxCodes[b].item<int8_t>());
        const float scale = q.absmaxScales[b / q.absmaxBlockSize].item<float>();
        absmax[size_t(b)] = code * scale + q.absmaxOffset.item<float>();
    }
    std::vector<double> out(size_t(q.numel));
    for (int64_t i = 0; i < q.numel; ++i) {
        const uint8_t byte = bytes[i / 2];
        const int code = i % 2 == 0 ? byte >> 4 : byte & 0x0F;
        out[size_t(i)] = kBitsandbytesNf4[code] * double(absmax[size_t(i / q.blockSize)]);
    }
    return at::tensor(out, at::kDouble).view(q.shape).to(dtype);
}

} // namespace

class TestNf4 : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void codeValuesAreBitsandbytesValues()
    {
        const auto& codes = peft::nf4Codes();
        for (int i = 0; i < 16; ++i)
            QCOMPARE(codes[i], float(kBitsandbytesNf4[i]));
        QCOMPARE(codes[7], 0.0f);
        for (int i = 0; i + 1 < 16; ++i)
            QVERIFY(codes[i] < codes[i + 1]);
    }

    void codeValuesFollowTheirConstruction()
    {
        // bitsandbytes create_normal_map(offset=0.9677083): 8 positive quantiles of N(0, 1)
        // at linspace(offset, 0.5, 9)[:-1], 7 negative at linspace(offset, 0.5, 8)[:-1],
        // a zero, sorted and divided by the largest (fp32 linspace, fp64 ppf, fp32 divide).
        auto ppf = [](const at::Tensor& p) { return std::sqrt(2.0) * at::erfinv(2.0 * p.to(at::kDouble) - 1.0); };
        const double offset = 0.9677083;
        at::Tensor pos = ppf(at::linspace(offset, 0.5, 9, at::kFloat).narrow(0, 0, 8));
        at::Tensor neg = -ppf(at::linspace(offset, 0.5, 8, at::kFloat).narrow(0, 0, 7));
        at::Tensor v = std::get<0>(at::cat({pos, at::zeros({1}, at::kDouble), neg}).to(at::kFloat).sort());
        v = v / v.max();
        const auto& codes = peft::nf4Codes();
        at::Tensor ours = at::tensor(at::ArrayRef<float>(codes.data(), 16));
        FT_COMPARE_TENSORS(ours, v, 2e-6);
    }

    void quantizationErrorIsBounded_data()
    {
        QTest::addColumn<bool>("doubleQuant");
        QTest::newRow("absmax fp32") << false;
        QTest::newRow("double quantization") << true;
    }
    void quantizationErrorIsBounded()
    {
        QFETCH(bool, doubleQuant);
        // 150 x 130 = 19500 values: 305 blocks of 64 (the last one padded), 2 absmax blocks of 256.
        at::Tensor w = randomNormal({150, 130}, 1) * 0.05;
        w[3][7] = 0.9;  // one outlier: its block's absmax is far from the others
        peft::Nf4Tensor q = peft::quantizeNf4(w, 64, doubleQuant);
        QCOMPARE(q.blocks(), int64_t(305));
        at::Tensor back = peft::dequantizeNf4(q, at::kDouble);
        QCOMPARE(back.sizes(), w.sizes());

        const int64_t n = w.numel(), blocks = q.blocks();
        at::Tensor flat = at::cat({w.reshape(-1).to(at::kDouble), at::zeros({blocks * 64 - n}, at::kDouble)});
        at::Tensor err = (at::cat({back.reshape(-1), at::zeros({blocks * 64 - n}, at::kDouble)}) - flat).abs();
        at::Tensor absmax = flat.view({blocks, 64}).abs().amax(1);            // true absmax per block
        at::Tensor blockErr = err.view({blocks, 64}).amax(1);                  // (blocks,)

        // The codes are the nearest ones (brute force over all 16, ties within rounding).
        at::Tensor normalized = flat.view({blocks, 64}) / absmax.unsqueeze(1);
        at::Tensor dist = (normalized.reshape({-1, 1}) - referenceCodes().view({1, 16})).abs();  // (N, 16)
        at::Tensor idx = peft::nf4Indices(q).to(at::kLong);
        at::Tensor chosen = dist.narrow(0, 0, n).gather(1, idx.view({-1, 1})).squeeze(1);
        FT_COMPARE_TENSORS(chosen, std::get<0>(dist.narrow(0, 0, n).min(1)), 1e-6);

        // Absmax error: none without double quantization (fp32 rounding only); with it, at
        // most half an int8 step of its 256-block: max |absmax - mean| / 127 / 2.
        at::Tensor decoded = peft::nf4BlockAbsmax(q).to(at::kDouble);
        at::Tensor absmaxErr = (decoded - absmax).abs();
        at::Tensor absmaxBound = absmax * 1e-7;
        if (doubleQuant) {
            const double mean = absmax.to(at::kFloat).mean().item<double>();
            at::Tensor dev = at::cat({(absmax - mean).abs(), at::zeros({2 * 256 - blocks}, at::kDouble)});
            dev = dev.view({2, 256});
            at::Tensor step = dev.amax(1) / 127.0;  // (2,)
            absmaxBound = absmaxBound + step.repeat_interleave(256).narrow(0, 0, blocks) / 2 + 1e-7;
        }
        QVERIFY2((absmaxErr <= absmaxBound).all().item<bool>(), "absmax error beyond its bound");

        // Per block: half the largest gap between neighbouring codes times the absmax,
        // plus the absmax error (a code is at most 1 in magnitude).
        at::Tensor bound = 0.5 * largestGap() * absmax + absmaxBound + 1e-7 * absmax;
        QVERIFY2((blockErr <= bound).all().item<bool>(), "block error beyond half the largest code gap");
        qInfo("largest error / block absmax %.4f (half the largest code gap: %.4f); largest error / its bound %.3f; "
              "largest absmax error %.3g",
              (blockErr / absmax).max().item<double>(), 0.5 * largestGap(), (blockErr / bound).max().item<double>(),
              absmaxErr.max().item<double>());
    }

    void exactCodeValuesRoundTrip_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::newRow("fp32") << int(at::kFloat);
        QTest::newRow("fp64") << int(at::kDouble);
    }
    void exactCodeValuesRoundTrip()
    {
        QFETCH(int, dtype);
        const auto type = c10::ScalarType(dtype);
        // Three blocks of code values times a scale, each block holding +-1 so that its
        // absmax is the scale itself.
        const float scales[3] = {0.37f, 2.5f, 0.0125f};
        auto gen = at::detail::createCPUGenerator(3);
        at::Tensor idx = at::randint(16, {3, 64}, gen, at::kLong);
        idx[0][5] = 0;
        idx[1][60] = 15;
        idx[2][0] = 15;
        at::Tensor codes = at::tensor(at::ArrayRef<float>(peft::nf4Codes().data(), 16)).to(type);
        at::Tensor values = codes.index_select(0, idx.reshape(-1)).view({3, 64});
        for (int b = 0; b < 3; ++b)
            values[b] = values[b] * double(scales[b]);  // products in `type`, as the decoder forms them
        peft::Nf4Tensor q = peft::quantizeNf4(values, 64, /*doubleQuant=*/false);
        QVERIFY(at::equal(peft::nf4Indices(q).to(at::kLong), idx.reshape(-1)));
        QVERIFY(at::equal(peft::dequantizeNf4(q, type), values));
        // Double quantization changes the scales, never the codes.
        peft::Nf4Tensor q2 = peft::quantizeNf4(values, 64, /*doubleQuant=*/true);
        QVERIFY(at::equal(peft::nf4Indices(q2).to(at::kLong), idx.reshape(-1)));
    }

    void packingOrderIsHighNibbleFirst()
    {
        // Elements 2i and 2i+1 share byte i: 2i in the high nibble (as bitsandbytes packs).
        const auto& c = peft::nf4Codes();
        at::Tensor v = at::tensor(std::vector<float>{c[3], c[12], c[15], c[0], c[7], c[9]});
        peft::Nf4Tensor q = peft::quantizeNf4(v, 64, false);
        QCOMPARE(q.packed.scalar_type(), at::kByte);
        QCOMPARE(q.packed.numel(), int64_t(32));  // one block of 64, padded with zeros (code 7)
        QCOMPARE(q.packed[0].item<int>(), 0x3C);
        QCOMPARE(q.packed[1].item<int>(), 0xF0);
        QCOMPARE(q.packed[2].item<int>(), 0x79);
        QCOMPARE(q.packed[3].item<int>(), 0x77);
        QVERIFY(at::equal(peft::dequantizeNf4(q, at::kFloat), v));
    }

    void badInputIsRefused()
    {
        at::Tensor w = randomNormal({4, 8}, 2);
        w[1][1] = std::nan("");
        const QString nan = fttest::errorOf([&] { peft::quantizeNf4(w); });
        QVERIFY2(nan.contains("NaN") && nan.contains("(4, 8)"), qPrintable(nan));
        const QString block = fttest::errorOf([&] { peft::quantizeNf4(randomNormal({4, 8}, 2), 63); });
        QVERIFY2(block.contains("block size") && block.contains("63"), qPrintable(block));
    }

    void qloraBaseMemory()
    {
        const model::ModelConfig c = fttest::tinyConfig();
        model::CausalLM m(c);
        m->initializeWeights(5);
        int64_t denseBytes = 0, expected = 0;
        for (auto& slot : peft::projectionSlots(m)) {
            if (slot.layer < 0)
                continue;
            const int64_t n = slot.get()->as<model::DenseLinearImpl>()->weight.numel();
            denseBytes += n * 4;
            const int64_t blocks = (n + 63) / 64;
            expected += blocks * 32 + blocks + 4 * ((blocks + 255) / 256) + 4;  // codes, int8 absmax, scales, offset
        }
        QCOMPARE(peft::quantizeDecoderProjections(m, 64, true), 7 * c.numHiddenLayers);
        int64_t nf4Bytes = 0;
        for (auto& slot : peft::projectionSlots(m)) {
            if (slot.layer < 0) {
                QVERIFY(slot.get()->as<model::DenseLinearImpl>() != nullptr);  // lm_head stays dense
                continue;
            }
            auto* layer = slot.get()->as<peft::Nf4LinearImpl>();
            QVERIFY2(layer, slot.path.c_str());
            nf4Bytes += layer->storageBytes();
        }
        QCOMPARE(nf4Bytes, expected);
        const double ratio = double(nf4Bytes) / double(denseBytes);
        qInfo("NF4 + double quantization: %lld bytes for %lld fp32 bytes of projections, ratio %.4f",
              (long long)nf4Bytes, (long long)denseBytes, ratio);
        QVERIFY(ratio <= 0.3);
        // The model still runs, on the quantized projections.
        at::Tensor logits = m->forward(at::randint(c.vocabSize, {1, 6}, at::kLong));
        QVERIFY(logits.isfinite().all().item<bool>());
    }

    // A QLoRA base quantized while it loads (peft::quantizeWhileLoading) is the model that
    // loading and then quantizing gives: the same modules, every parameter and NF4 buffer
    // bit for bit, the same logits; with biases (Qwen2), fused projections (Phi-3) and
    // experts (Qwen3-MoE, whose router stays dense).
    void quantizedWhileLoadingEqualsQuantizedAfter_data()
    {
        QTest::addColumn<int>("arch");
        QTest::newRow("llama") << int(model::Arch::Llama);
        QTest::newRow("qwen2 (biases)") << int(model::Arch::Qwen2);
        QTest::newRow("phi3 (fused)") << int(model::Arch::Phi3);
        QTest::newRow("qwen3_moe (experts)") << int(model::Arch::Qwen3Moe);
    }

    void quantizedWhileLoadingEqualsQuantizedAfter()
    {
        QFETCH(int, arch);
        const model::ModelConfig c = fttest::tinyConfig(model::Arch(arch));
        QTemporaryDir dir;
        {
            model::CausalLM m(c);
            m->initializeWeights(11);
            model::saveModelFolder(dir.path().toStdString(), m, model::GenerationDefaults{1, {2}});
        }
        model::LoadedModel after = model::loadModelFolder(dir.path().toStdString());
        const int64_t quantized = peft::quantizeDecoderProjections(after.model, 64, true);
        auto counts = std::make_shared<peft::StreamingQuantization>();
        model::LoadOptions options;
        options.afterParameter = peft::quantizeWhileLoading(counts, 64, true);
        model::LoadedModel during = model::loadModelFolder(dir.path().toStdString(), options);
        QCOMPARE(counts->projections, quantized);
        QVERIFY(quantized > 0);
        QCOMPARE(peft::quantizeDecoderProjections(during.model, 64, true), int64_t(0));  // nothing left to do
        int routers = 0;
        for (auto& slot : peft::projectionSlots(during.model)) {
            const bool dense = slot.get()->as<model::DenseLinearImpl>() != nullptr;
            QVERIFY2(dense == (slot.layer < 0 || slot.router), slot.path.c_str());
            routers += slot.router;
        }
        QCOMPARE(routers > 0, model::Arch(arch) == model::Arch::Qwen3Moe);
        auto same = [](const auto& a, const auto& b, const char* what) {
            QCOMPARE(a.size(), b.size());
            for (const auto& item : a) {
                const at::Tensor* other = b.find(item.key());
                QVERIFY2(other, qPrintable(QString("%1 %2 is missing").arg(what, item.key().c_str())));
                QVERIFY2(item.value().dtype() == other->dtype() && item.value().sizes() == other->sizes() &&
                             at::equal(item.value(), *other),
                         qPrintable(QString("%1 %2 differs").arg(what, item.key().c_str())));
            }
        };
        same(after.model->named_parameters(), during.model->named_parameters(), "parameter");
        same(after.model->named_buffers(), during.model->named_buffers(), "buffer");
        const at::Tensor ids = at::randint(c.vocabSize, {2, 7}, at::kLong);
        QVERIFY(at::equal(after.model->forward(ids), during.model->forward(ids)));
        // The counts: the dense weights replaced, against what replaced them.
        int64_t elements = 0, nf4 = 0;
        for (auto& slot : peft::projectionSlots(during.model))
            if (auto* layer = slot.get()->as<peft::Nf4LinearImpl>()) {
                elements += layer->inFeatures() * layer->outFeatures();
                nf4 += layer->storageBytes();
            }
        QCOMPARE(counts->weightElements, elements);
        QCOMPARE(counts->weightBytes, elements * 4);
        QCOMPARE(counts->nf4Bytes, nf4);
    }

    void nf4LinearGradientEqualsDenseOfDequantizedWeight_data()
    {
        QTest::addColumn<int>("dtype");
        QTest::addColumn<bool>("doubleQuant");
        QTest::newRow("fp32") << int(at::kFloat) << true;
        QTest::newRow("fp64") << int(at::kDouble) << true;
        QTest::newRow("fp32, absmax fp32") << int(at::kFloat) << false;
    }
    void nf4LinearGradientEqualsDenseOfDequantizedWeight()
    {
        QFETCH(int, dtype);
        QFETCH(bool, doubleQuant);
        const auto type = c10::ScalarType(dtype);
        model::SkipWeightInit skip;
        model::DenseLinearImpl dense(40, 24, /*bias=*/true);
        {
            at::NoGradGuard g;
            dense.weight.copy_(randomNormal({24, 40}, 8) * 0.2);
            dense.bias.copy_(randomNormal({24}, 9));
        }
        dense.weight.set_requires_grad(false);
        dense.bias.set_requires_grad(false);
        peft::Nf4LinearImpl nf4(dense, 64, doubleQuant);
        nf4.to(type);
        QCOMPARE(nf4.quantized().doubleQuant, doubleQuant);
        QCOMPARE(nf4.quantized().packed.scalar_type(), at::kByte);  // to(dtype) leaves the codes alone
        QCOMPARE(nf4.bias.scalar_type(), type);

        model::DenseLinearImpl reference(40, 24, true);
        reference.to(type);
        {
            at::NoGradGuard g;
            reference.weight.copy_(tableDequantize(nf4.quantized(), type));
            reference.bias.copy_(dense.bias);
        }
        at::Tensor x1 = randomNormal({3, 5, 40}, 6, type).requires_grad_(true);
        at::Tensor x2 = x1.detach().clone().requires_grad_(true);
        at::Tensor r = randomNormal({3, 5, 24}, 7, type);
        at::Tensor y1 = nf4.forward(x1), y2 = reference.forward(x2);
        const double tol = type == at::kDouble ? 1e-12 : 1e-5;
        FT_COMPARE_TENSORS(y1, y2, tol);
        (y1 * r).sum().backward();
        (y2 * r).sum().backward();
        FT_COMPARE_TENSORS(x1.grad(), x2.grad(), tol);
        // The quantized weight is not a leaf of the graph: nothing to train there.
        QVERIFY(!nf4.bias.grad().defined());
    }
};

FT_TEST_MAIN(TestNf4)

} // namespace test_nf4

#include "test_nf4.moc"
