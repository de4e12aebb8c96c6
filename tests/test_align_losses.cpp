// The alignment objectives' numeric pieces (core/align/): every loss, advantage and
// statistic on small hand-chosen fp64 inputs against its closed form computed here in
// plain C++ doubles (std::exp, std::log: independent of the tensor code), to 1e-12;
// GAE against a hand-worked example and a textbook loop; the adaptive KL controller
// against hand arithmetic; and extreme inputs (log-probs of -1e4, differences of ±1e4)
// giving finite values and gradients in fp32 and fp64.
#include "align/policy_gradient.h"
#include "align/preference_loss.h"
#include "tensor_compare.h"
#include "test_support.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <vector>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_align_losses {

using namespace ft::align;

namespace {

constexpr double kTol = 1e-12;

at::Tensor vec(const std::vector<double>& v) { return at::tensor(v, at::kDouble); }
at::Tensor mat(const std::vector<double>& v, int64_t rows) { return vec(v).view({rows, -1}); }

// Naive closed forms, deliberately not the stable ones the implementation uses.
double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
double logSigmoid(double x) { return std::log(sigmoid(x)); }
double logOdds(double a) { return a - std::log(1 - std::exp(a)); }

bool allFinite(const at::Tensor& t) { return at::isfinite(t).all().item<bool>(); }

} // namespace

#define EXPECT_VALUES(t, expected) FT_COMPARE_TENSORS((t), vec(expected).view((t).sizes()), kTol)

class TestAlignLosses : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void dpoAndConservativeDpo()
    {
        const std::vector<double> pc = {-5.0, -3.0, -10.0}, pr = {-5.0, -6.5, -4.0};
        const std::vector<double> rc = {-4.0, -3.5, -9.0}, rr = {-4.0, -5.0, -4.5};
        const double beta = 0.1, eps = 0.2;
        std::vector<double> dpo, cdpo, chosen, rejected;
        for (size_t i = 0; i < pc.size(); ++i) {
            const double h = (pc[i] - rc[i]) - (pr[i] - rr[i]);
            dpo.push_back(-logSigmoid(beta * h));
            cdpo.push_back(-(1 - eps) * logSigmoid(beta * h) - eps * logSigmoid(-beta * h));
            chosen.push_back(beta * (pc[i] - rc[i]));
            rejected.push_back(beta * (pr[i] - rr[i]));
        }
        PreferenceLossResult r = dpoLoss(vec(pc), vec(pr), vec(rc), vec(rr), beta);
        EXPECT_VALUES(r.losses, dpo);
        QVERIFY(std::abs(r.losses[0].item<double>() - std::log(2.0)) <= kTol);  // h = 0
        EXPECT_VALUES(r.chosenRewards, chosen);
        EXPECT_VALUES(r.rejectedRewards, rejected);
        EXPECT_VALUES(dpoLoss(vec(pc), vec(pr), vec(rc), vec(rr), beta, eps).losses, cdpo);
        QCOMPARE(r.losses.scalar_type(), at::kDouble);

        const QString badBeta = fttest::errorOf([&] { dpoLoss(vec(pc), vec(pr), vec(rc), vec(rr), 0); });
        QVERIFY2(badBeta.contains("objective.beta must be > 0 (got 0)"), qPrintable(badBeta));
        const QString badEps = fttest::errorOf([&] { dpoLoss(vec(pc), vec(pr), vec(rc), vec(rr), 0.1, 0.5); });
        QVERIFY2(badEps.contains("objective.label_smoothing"), qPrintable(badEps));
        const QString badShape = fttest::errorOf([&] { dpoLoss(vec(pc), vec({1, 2}), vec(rc), vec(rr), 0.1); });
        QVERIFY2(badShape.contains("policyRejected"), qPrintable(badShape));
    }

    void ipoAndSimpo()
    {
        const std::vector<double> pc = {-1.2, -0.4}, pr = {-1.5, -0.9}, rc = {-1.0, -0.6}, rr = {-1.1, -0.5};
        const double beta = 0.5, gamma = 0.8, eps = 0.1;
        std::vector<double> ipo, simpo, simpoSmoothed, simpoChosen;
        for (size_t i = 0; i < pc.size(); ++i) {
            const double h = (pc[i] - rc[i]) - (pr[i] - rr[i]);
            ipo.push_back((h - 1 / (2 * beta)) * (h - 1 / (2 * beta)));
            const double z = beta * (pc[i] - pr[i]) - gamma;
            simpo.push_back(-logSigmoid(z));
            simpoSmoothed.push_back(-(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z));
            simpoChosen.push_back(beta * pc[i]);
        }
        EXPECT_VALUES(ipoLoss(vec(pc), vec(pr), vec(rc), vec(rr), beta).losses, ipo);
        PreferenceLossResult s = simpoLoss(vec(pc), vec(pr), beta, gamma);
        EXPECT_VALUES(s.losses, simpo);
        EXPECT_VALUES(s.chosenRewards, simpoChosen);
        EXPECT_VALUES(simpoLoss(vec(pc), vec(pr), beta, gamma, eps).losses, simpoSmoothed);
        QVERIFY(!fttest::errorOf([&] { ipoLoss(vec(pc), vec(pr), vec(rc), vec(rr), -1); }).isEmpty());
    }

    void orpoOddsRatio()
    {
        const std::vector<double> c = {-0.01, -0.7, -5, -50}, r = {-0.7, -0.01, -50, -5};
        std::vector<double> ratio, losses;
        for (size_t i = 0; i < c.size(); ++i) {
            ratio.push_back(logOdds(c[i]) - logOdds(r[i]));
            losses.push_back(-logSigmoid(ratio.back()));
        }
        OddsRatioResult o = orpoOddsRatioLoss(vec(c), vec(r));
        EXPECT_VALUES(o.logOddsRatio, ratio);
        EXPECT_VALUES(o.losses, losses);
    }

    void ktoDesirableAndUndesirable()
    {
        const std::vector<double> policy = {-3.0, -4.0, -2.5, -7.0}, ref = {-3.5, -3.0, -2.0, -8.0};
        const bool desirable[] = {true, false, false, true};
        const double beta = 0.3, wD = 1.5, wU = 0.7;
        at::Tensor flags = at::tensor(std::vector<int64_t>{1, 0, 0, 1}).to(at::kBool);
        for (double kl : {-0.4, 0.25}) {  // a negative estimate counts as 0
            const double z = std::max(kl, 0.0);
            std::vector<double> losses, rewards;
            for (size_t i = 0; i < policy.size(); ++i) {
                const double r = policy[i] - ref[i];
                losses.push_back(desirable[i] ? wD * (1 - sigmoid(beta * (r - z))) : wU * (1 - sigmoid(beta * (z - r))));
                rewards.push_back(beta * r);
            }
            KtoLossResult k = ktoLoss(vec(policy), vec(ref), flags, at::scalar_tensor(kl, at::kDouble), beta, wD, wU);
            EXPECT_VALUES(k.losses, losses);
            EXPECT_VALUES(k.rewards, rewards);
        }
    }

    void bradleyTerry()
    {
        const std::vector<double> sc = {1.5, -0.2, 3.0}, sr = {0.5, 0.3, 3.0}, m = {0.0, 1.0, 0.25};
        std::vector<double> plain, withMargin;
        for (size_t i = 0; i < sc.size(); ++i) {
            plain.push_back(-logSigmoid(sc[i] - sr[i]));
            withMargin.push_back(-logSigmoid(sc[i] - sr[i] - m[i]));
        }
        EXPECT_VALUES(bradleyTerryLoss(vec(sc), vec(sr)), plain);
        EXPECT_VALUES(bradleyTerryLoss(vec(sc), vec(sr), vec(m)), withMargin);
    }

    void sequenceLogpsAgainstLoop()
    {
        at::manual_seed(7);
        at::Tensor logits = at::randn({2, 5, 7}, at::kDouble) * 3;  // (B, T, V)
        at::Tensor labels = at::randint(0, 7, {2, 5}, at::kLong);   // (B, T)
        labels[0][0] = -100;
        labels[0][3] = -100;
        labels[1][4] = -100;
        at::Tensor counts;
        at::Tensor got = sequenceLogps(logits, labels, &counts);
        auto lg = logits.accessor<double, 3>();
        auto lb = labels.accessor<int64_t, 2>();
        for (int64_t b = 0; b < 2; ++b) {
            double sum = 0;
            int64_t n = 0;
            for (int64_t t = 0; t + 1 < 5; ++t) {
                const int64_t y = lb[b][t + 1];
                if (y == -100)
                    continue;
                double z = 0;
                for (int64_t v = 0; v < 7; ++v)
                    z += std::exp(lg[b][t][v]);
                sum += lg[b][t][y] - std::log(z);
                ++n;
            }
            QVERIFY2(std::abs(got[b].item<double>() - sum) <= kTol, qPrintable(QString::number(got[b].item<double>() - sum)));
            QCOMPARE(counts[b].item<int64_t>(), n);
        }
        QCOMPARE(counts[0].item<int64_t>(), int64_t(3));
        QCOMPARE(sequenceLogps(logits.to(at::kBFloat16), labels).scalar_type(), at::kFloat);
    }

    void maskedStatistics()
    {
        at::Tensor x = mat({1.0, 2.0, 6.0, -3.0, 100.0, 4.0}, 2);
        at::Tensor mask = mat({1, 1, 1, 1, 0, 1}, 2);
        const std::vector<double> kept = {1.0, 2.0, 6.0, -3.0, 4.0};
        double mean = 0, var = 0;
        for (double v : kept)
            mean += v / kept.size();
        for (double v : kept)
            var += (v - mean) * (v - mean) / (kept.size() - 1);
        QVERIFY(std::abs(maskedMean(x, mask).item<double>() - mean) <= kTol);
        std::vector<double> white, unshifted;
        for (int i = 0; i < 6; ++i) {
            const double v = i < 4 ? kept[i] : kept[4];  // entry 4 (100.0) is masked and comes back 0
            white.push_back(i == 4 ? 0 : (v - mean) / std::sqrt(var + 1e-8));
            unshifted.push_back(i == 4 ? 0 : (v - mean) / std::sqrt(var + 1e-8) + mean);
        }
        EXPECT_VALUES(maskedWhiten(x, mask), white);
        EXPECT_VALUES(maskedWhiten(x, mask, /*shiftMean=*/false), unshifted);
        QCOMPARE(maskedMean(x, at::zeros_like(x)).item<double>(), 0.0);
        QVERIFY(allFinite(maskedWhiten(x, at::zeros_like(x))));
    }

    void gaeHandWorked()
    {
        // γ = 0.9, λ = 0.8 (γλ = 0.72).
        // Row 0, three tokens, r = (0, 0, 1), V = (0.5, 0.6, 0.7); V after the end = 0:
        //   δ2 = 1 + 0.9·0 - 0.7 = 0.3              A2 = 0.3
        //   δ1 = 0 + 0.9·0.7 - 0.6 = 0.03           A1 = 0.03 + 0.72·0.3 = 0.246
        //   δ0 = 0 + 0.9·0.6 - 0.5 = 0.04           A0 = 0.04 + 0.72·0.246 = 0.21712
        //   returns = A + V = (0.71712, 0.846, 1.0)
        // Row 1, two tokens (mask 1 1 0), r = (0.2, 0.5, 9), V = (0.1, 0.4, 7) (9 and 7 ignored):
        //   δ1 = 0.5 - 0.4 = 0.1                    A1 = 0.1
        //   δ0 = 0.2 + 0.9·0.4 - 0.1 = 0.46         A0 = 0.46 + 0.72·0.1 = 0.532
        //   returns = (0.632, 0.5, 0)
        at::Tensor rewards = mat({0, 0, 1, 0.2, 0.5, 9}, 2), values = mat({0.5, 0.6, 0.7, 0.1, 0.4, 7}, 2);
        at::Tensor mask = mat({1, 1, 1, 1, 1, 0}, 2);
        GaeResult g = generalizedAdvantages(rewards, values, mask, 0.9, 0.8);
        EXPECT_VALUES(g.advantages, (std::vector<double>{0.21712, 0.246, 0.3, 0.532, 0.1, 0}));
        EXPECT_VALUES(g.returns, (std::vector<double>{0.71712, 0.846, 1.0, 0.632, 0.5, 0}));
    }

    void gaeAgainstLoop()
    {
        at::manual_seed(3);
        const int64_t B = 3, T = 6, lengths[] = {6, 4, 1};
        const double gamma = 0.95, lambda = 0.9;
        at::Tensor rewards = at::randn({B, T}, at::kDouble), values = at::randn({B, T}, at::kDouble);
        at::Tensor mask = at::zeros({B, T}, at::kDouble);
        for (int64_t b = 0; b < B; ++b)
            mask[b].narrow(0, 0, lengths[b]).fill_(1);
        std::vector<double> adv(B * T, 0.0), ret(B * T, 0.0);
        auto r = rewards.accessor<double, 2>(), v = values.accessor<double, 2>();
        for (int64_t b = 0; b < B; ++b) {  // the textbook backward pass over each row's own length
            double last = 0;
            for (int64_t t = lengths[b] - 1; t >= 0; --t) {
                const double next = t + 1 < lengths[b] ? v[b][t + 1] : 0.0;
                last = r[b][t] + gamma * next - v[b][t] + gamma * lambda * last;
                adv[b * T + t] = last;
                ret[b * T + t] = last + v[b][t];
            }
        }
        at::Tensor trainable = values.clone().requires_grad_(true);
        GaeResult g = generalizedAdvantages(rewards, trainable, mask, gamma, lambda);
        EXPECT_VALUES(g.advantages, adv);
        EXPECT_VALUES(g.returns, ret);
        QVERIFY(!g.advantages.requires_grad() && !g.returns.requires_grad());
    }

    void groupNormalizedAdvantages()
    {
        const std::vector<double> r = {1.0, 2.0, 4.0, 0.1, 0.1, 0.1};
        const double mean = (1.0 + 2.0 + 4.0) / 3;
        const double sd = std::sqrt(((1 - mean) * (1 - mean) + (2 - mean) * (2 - mean) + (4 - mean) * (4 - mean)) / 2);
        std::vector<double> scaled, centered;
        for (int i = 0; i < 3; ++i) {
            scaled.push_back((r[i] - mean) / (sd + 1e-4));
            centered.push_back(r[i] - mean);
        }
        for (int i = 0; i < 3; ++i) {
            scaled.push_back(0);
            centered.push_back(0);
        }
        at::Tensor a = groupAdvantages(vec(r), 3);
        EXPECT_VALUES(a, scaled);
        QVERIFY((a.narrow(0, 3, 3) == 0).all().item<bool>());  // exactly, not 1e-13 / 1e-4
        EXPECT_VALUES(groupAdvantages(vec(r), 3, /*scaleByStd=*/false), centered);
        QVERIFY((groupAdvantages(vec(r), 1) == 0).all().item<bool>());
        const QString err = fttest::errorOf([&] { groupAdvantages(vec(r), 4); });
        QVERIFY2(err.contains("groups of 4"), qPrintable(err));
    }

    void k3Estimate()
    {
        const std::vector<double> logp = {-1.0, -2.0, -0.5, -3.0}, ref = {-1.0, -1.5, -1.8, 0.0};
        std::vector<double> expected;
        for (size_t i = 0; i < logp.size(); ++i) {
            const double d = ref[i] - logp[i];
            expected.push_back(std::exp(d) - d - 1);
        }
        at::Tensor k = k3KlEstimate(vec(logp), vec(ref));
        EXPECT_VALUES(k, expected);
        QCOMPARE(k[0].item<double>(), 0.0);
        QVERIFY((k.narrow(0, 1, 3) > 0).all().item<bool>());
    }

    void clippedPolicy()
    {
        // Ratios 1.5 (above 1 + 0.2), 0.5 (below 1 - 0.2), 1.1 (inside); row 0 has A = +1,
        // row 1 A = -2; row 1's last token is masked. The clipped branch wins (is strictly
        // smaller) for (A > 0, ρ = 1.5) and (A < 0, ρ = 0.5): 2 of 5 valid tokens.
        const std::vector<double> ratios = {1.5, 0.5, 1.1}, advs = {1.0, -2.0};
        at::Tensor old = mat({-1.0, -2.0, -0.3, -0.7, -4.0, -1.1}, 2);
        at::Tensor logp = old + vec({std::log(1.5), std::log(0.5), std::log(1.1)}).view({1, 3});
        at::Tensor mask = mat({1, 1, 1, 1, 1, 0}, 2);
        std::vector<double> expected;
        for (int b = 0; b < 2; ++b)
            for (int t = 0; t < 3; ++t) {
                const double rho = ratios[t], a = advs[b];
                expected.push_back(b == 1 && t == 2 ? 0 : -std::min(rho * a, std::clamp(rho, 0.8, 1.2) * a));
            }
        for (at::Tensor a : {mat(advs, 2), mat(advs, 2).expand({2, 3}).contiguous()}) {
            ClippedPolicyLoss c = clippedPolicyLoss(logp, old, a, mask, 0.2, 0.2);
            EXPECT_VALUES(c.perToken, expected);
            QVERIFY(std::abs(c.clipFraction.item<double>() - 0.4) <= kTol);
            EXPECT_VALUES(c.ratio, (std::vector<double>{1.5, 0.5, 1.1, 1.5, 0.5, 1.1}));
        }
        // Clip-higher: with clipHigh 0.6 the ratio 1.5 is inside the range.
        ClippedPolicyLoss wide = clippedPolicyLoss(logp, old, mat(advs, 2), mask, 0.2, 0.6);
        QVERIFY(std::abs(wide.perToken[0][0].item<double>() + 1.5) <= kTol);
        QVERIFY(std::abs(wide.clipFraction.item<double>() - 0.2) <= kTol);
    }

    void clippedValue()
    {
        const std::vector<double> v = {1.0, 1.0, 0.0, 1.5}, old = {0.5, 0.9, 1.0, 1.0}, ret = {0.0, 2.0, 1.0, 1.6};
        const double clip = 0.2;
        std::vector<double> expected;
        for (size_t i = 0; i < v.size(); ++i) {
            const double vc = std::clamp(v[i], old[i] - clip, old[i] + clip);
            expected.push_back(i == 1 ? 0 : 0.5 * std::max((v[i] - ret[i]) * (v[i] - ret[i]), (vc - ret[i]) * (vc - ret[i])));
        }
        at::Tensor mask = vec({1, 0, 1, 1});
        EXPECT_VALUES(clippedValueLoss(vec(v), vec(old), vec(ret), mask, clip), expected);
        QVERIFY(std::abs(expected[3] - 0.5 * 0.4 * 0.4) <= kTol);  // the clipped branch is the larger one
    }

    void entropy()
    {
        at::Tensor uniform = at::full({2, 3, 11}, 3.7, at::kDouble);
        FT_COMPARE_TENSORS(entropyFromLogits(uniform), at::full({2, 3}, std::log(11.0), at::kDouble), kTol);
        at::Tensor f = entropyFromLogits(at::full({1, 1, 11}, 1e4, at::kFloat));
        QCOMPARE(f.scalar_type(), at::kFloat);
        QVERIFY(std::abs(f.item<double>() - std::log(11.0)) <= 1e-6);
        const std::vector<double> l = {0.3, -1.0, 2.0, 0.0};
        double z = 0, h = 0;
        for (double x : l)
            z += std::exp(x);
        for (double x : l)
            h -= std::exp(x) / z * std::log(std::exp(x) / z);
        QVERIFY(std::abs(entropyFromLogits(vec(l).view({1, 1, 4})).item<double>() - h) <= kTol);
    }

    void klController()
    {
        KlController c = KlController::adaptive(0.2, 6.0, 10000);
        // e = clip(8/6 - 1, ±0.2) = 0.2; clip(1/6 - 1) = -0.2; 6.6/6 - 1 = 0.1.
        c.update(8.0, 256);
        QVERIFY(std::abs(c.coef() - 0.2 * (1 + 0.2 * 256 / 10000.0)) <= kTol);  // 0.201024
        c.update(1.0, 512);
        QVERIFY(std::abs(c.coef() - 0.201024 * (1 - 0.2 * 512 / 10000.0)) <= kTol);  // 0.19896551424
        const double beforeThird = c.coef();
        const nlohmann::json saved = c.toJson();
        c.update(6.6, 128);
        QVERIFY(std::abs(c.coef() - 0.19896551424 * (1 + 0.1 * 128 / 10000.0)) <= kTol);

        KlController resumed = KlController::fromJson(nlohmann::json::parse(saved.dump()));
        QVERIFY(resumed.isAdaptive());
        QCOMPARE(resumed.coef(), beforeThird);  // bit for bit: JSON keeps 17 digits
        resumed.update(6.6, 128);
        QCOMPARE(resumed.coef(), c.coef());

        KlController fixed = KlController::fixed(0.05);
        fixed.update(100.0, 1000);
        QCOMPARE(fixed.coef(), 0.05);
        QCOMPARE(KlController::fromJson(fixed.toJson()).coef(), 0.05);
        QVERIFY(!KlController::fromJson(fixed.toJson()).isAdaptive());
        const QString err = fttest::errorOf([] { KlController::fromJson({{"kind", "pid"}}); });
        QVERIFY2(err.contains("\"kind\""), qPrintable(err));
        QVERIFY(!fttest::errorOf([] { KlController::adaptive(0.1, 0, 100); }).isEmpty());
    }

    void extremeInputsStayFinite()
    {
        at::manual_seed(11);
        for (at::ScalarType dtype : {at::kFloat, at::kDouble}) {
            auto leaf = [&](const std::vector<double>& v) { return vec(v).to(dtype).requires_grad_(true); };
            at::Tensor big = leaf({-1e4, 0.0, 1e4, -1e-9}), low = leaf({0.0, -1e4, -1e4, 0.0});
            at::Tensor a = leaf({-1e4, -1e-9, 0.0, -0.5}), b = leaf({0.0, -1e4, -1e-12, -1e4});
            at::Tensor flags = at::tensor(std::vector<int64_t>{1, 0, 1, 0}).to(at::kBool);
            std::vector<at::Tensor> outs = {
                dpoLoss(big, low, low, big, 0.5, 0.1).losses,
                ipoLoss(big, low, low, big, 0.5).losses,
                simpoLoss(big, low, 2.0, 1.0, 0.1).losses,
                orpoOddsRatioLoss(a, b).losses,
                ktoLoss(big, low, flags, at::scalar_tensor(1e4), 1.0).losses,
                bradleyTerryLoss(big, low, leaf({1e4, -1e4, 0, 0})),
                k3KlEstimate(big, low),
                maskedWhiten(big, at::ones({4})),
                maskedWhiten(leaf({3, 3, 3, 3}), at::ones({4})),
                groupAdvantages(big, 2),
                clippedPolicyLoss(big.view({2, 2}), low.view({2, 2}), leaf({1e4, -1e4}).view({2, 1}), at::ones({2, 2}),
                                  0.2, 0.2).perToken,
                clippedValueLoss(big, low, a, at::ones({4}), 0.2),
            };
            at::Tensor logits = (at::randn({2, 3, 5}) * 1e4).to(dtype).requires_grad_(true);
            at::Tensor labels = at::tensor(std::vector<int64_t>{0, 4, -100, 0, 1, 2}).view({2, 3});
            outs.push_back(sequenceLogps(logits, labels));
            outs.push_back(entropyFromLogits(logits));
            at::Tensor total = at::zeros({}, at::TensorOptions().dtype(at::kDouble));
            for (size_t i = 0; i < outs.size(); ++i) {
                QVERIFY2(allFinite(outs[i]), qPrintable(QString("output %1 not finite in %2").arg(i).arg(c10::toString(dtype))));
                total = total + outs[i].sum().to(at::kDouble);
            }
            total.backward();
            for (const at::Tensor& t : {big, low, a, b, logits})
                QVERIFY2(t.grad().defined() && allFinite(t.grad()), c10::toString(dtype));
        }
    }
};

FT_TEST_MAIN(TestAlignLosses)

} // namespace test_align_losses

#include "test_align_losses.moc"
