#include "io/ggml_types.h"

#include "util/error.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>

namespace ft::io {
namespace {

constexpr int64_t kQK = 256;  // K-quant super-block
constexpr float kGroupMaxEps = 1e-15f;

// Sizes from ggml-common.h: block_q4_0 = half + 16 bytes, block_q4_K = 2 halves + 12 + 128 ...
constexpr std::array<GgmlTypeInfo, 22> kTypes{{
    {GgmlType::F32, "f32", 1, 4, true},
    {GgmlType::F16, "f16", 1, 2, true},
    {GgmlType::Q4_0, "q4_0", 32, 18, true},
    {GgmlType::Q4_1, "q4_1", 32, 20, false},
    {GgmlType::Q5_0, "q5_0", 32, 22, true},
    {GgmlType::Q5_1, "q5_1", 32, 24, false},
    {GgmlType::Q8_0, "q8_0", 32, 34, true},
    {GgmlType::Q8_1, "q8_1", 32, 36, false},
    {GgmlType::Q2_K, "q2_K", 256, 84, false},
    {GgmlType::Q3_K, "q3_K", 256, 110, false},
    {GgmlType::Q4_K, "q4_K", 256, 144, true},
    {GgmlType::Q5_K, "q5_K", 256, 176, false},
    {GgmlType::Q6_K, "q6_K", 256, 210, true},
    {GgmlType::Q8_K, "q8_K", 256, 292, false},
    {GgmlType::IQ4_NL, "iq4_nl", 32, 18, false},
    {GgmlType::IQ4_XS, "iq4_xs", 256, 136, false},
    {GgmlType::I8, "i8", 1, 1, false},
    {GgmlType::I16, "i16", 1, 2, false},
    {GgmlType::I32, "i32", 1, 4, false},
    {GgmlType::I64, "i64", 1, 8, false},
    {GgmlType::F64, "f64", 1, 8, false},
    {GgmlType::BF16, "bf16", 1, 2, true},
}};

// Round to nearest, ties to even (ggml's nearest_int for the magnitudes used here).
int nearestInt(float v) { return int(std::lrintf(v)); }

uint32_t shiftRound(uint32_t v, int shift)
{
    if (shift <= 0)
        return v;
    if (shift >= 32)
        return 0;
    const uint32_t q = v >> shift, rem = v & ((1u << shift) - 1), half = 1u << (shift - 1);
    return q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
}

void putHalf(uint8_t* p, float f)
{
    const uint16_t h = floatToHalf(f);
    p[0] = uint8_t(h & 0xff);
    p[1] = uint8_t(h >> 8);
}
float getHalf(const uint8_t* p) { return halfToFloat(uint16_t(p[0] | (p[1] << 8))); }

// ---- Q8_0: half d, int8 q[32]; x = d * q.
void quantizeQ8_0(const float* x, uint8_t* y)
{
    float amax = 0;
    for (int j = 0; j < 32; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    putHalf(y, d);
    for (int j = 0; j < 32; ++j)
        y[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}
void dequantizeQ8_0(const uint8_t* y, float* x)
{
    const float d = getHalf(y);
    for (int j = 0; j < 32; ++j)
        x[j] = float(int8_t(y[2 + j])) * d;
}

// ---- Q4_0: half d, 16 bytes of nibbles; element j in the low nibble of byte j,
// element j+16 in the high one; x = (q - 8) * d, d = (signed max) / -8.
void quantizeQ4_0(const float* x, uint8_t* y)
{
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    const float d = max / -8.0f, id = d != 0 ? 1.0f / d : 0.0f;
    putHalf(y, d);
    for (int j = 0; j < 16; ++j) {
        const uint8_t lo = uint8_t(std::min(15, int(int8_t(x[j] * id + 8.5f))));
        const uint8_t hi = uint8_t(std::min(15, int(int8_t(x[16 + j] * id + 8.5f))));
        y[2 + j] = uint8_t(lo | (hi << 4));
    }
}
void dequantizeQ4_0(const uint8_t* y, float* x)
{
    const float d = getHalf(y);
    for (int j = 0; j < 16; ++j) {
        x[j] = float(int(y[2 + j] & 0x0f) - 8) * d;
        x[16 + j] = float(int(y[2 + j] >> 4) - 8) * d;
    }
}

// ---- Q5_0: half d, u32 of fifth bits, 16 bytes of nibbles; x = (q - 16) * d, d = (signed max) / -16.
void quantizeQ5_0(const float* x, uint8_t* y)
{
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    const float d = max / -16.0f, id = d != 0 ? 1.0f / d : 0.0f;
    putHalf(y, d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const uint32_t lo = uint32_t(std::min(31, int(int8_t(x[j] * id + 16.5f))));
        const uint32_t hi = uint32_t(std::min(31, int(int8_t(x[16 + j] * id + 16.5f))));
        y[6 + j] = uint8_t((lo & 0x0f) | ((hi & 0x0f) << 4));
        qh |= ((lo & 0x10u) >> 4) << j;
        qh |= ((hi & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y + 2, &qh, 4);
}
void dequantizeQ5_0(const uint8_t* y, float* x)
{
    const float d = getHalf(y);
    uint32_t qh;
    std::memcpy(&qh, y + 2, 4);
    for (int j = 0; j < 16; ++j) {
        const int lo = int((y[6 + j] & 0x0f) | (((qh >> j) << 4) & 0x10u));
        const int hi = int((y[6 + j] >> 4) | ((qh >> (j + 12)) & 0x10u));
        x[j] = float(lo - 16) * d;
        x[16 + j] = float(hi - 16) * d;
    }
}

// ---- Q4_K: half d, half dmin, 12 bytes of 6-bit (scale, min) pairs for 8 sub-blocks
// of 32, 128 bytes of nibbles; x = d*sc*q - dmin*m.

// ggml's make_qkx2_quants: the (scale, -min) of one sub-block minimizing the weighted
// squared error over a small search of scales.
float makeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* theMin, uint8_t* Laux,
                     float rmin, float rdelta, int nstep)
{
    float min = x[0], max = x[0], sumW = weights[0], sumX = sumW * x[0];
    for (int i = 1; i < n; ++i) {
        min = std::min(min, x[i]);
        max = std::max(max, x[i]);
        sumW += weights[i];
        sumX += weights[i] * x[i];
    }
    if (min > 0)
        min = 0;
    if (max == min) {
        std::fill(L, L + n, uint8_t(0));
        *theMin = -min;
        return 0.0f;
    }
    float iscale = float(nmax) / (max - min), scale = 1 / iscale, bestError = 0;
    for (int i = 0; i < n; ++i) {
        L[i] = uint8_t(std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax));
        const float diff = scale * L[i] + min - x[i];
        bestError += weights[i] * diff * diff;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * float(is) + float(nmax)) / (max - min);
        float sumL = 0, sumL2 = 0, sumXL = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = uint8_t(l);
            sumL += weights[i] * float(l);
            sumL2 += weights[i] * float(l * l);
            sumXL += weights[i] * float(l) * x[i];
        }
        const float D = sumW * sumL2 - sumL * sumL;
        if (D > 0) {
            float thisScale = (sumW * sumXL - sumX * sumL) / D;
            float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
            if (thisMin > 0) {
                thisMin = 0;
                thisScale = sumXL / sumL2;
            }
            float curError = 0;
            for (int i = 0; i < n; ++i) {
                const float diff = thisScale * Laux[i] + thisMin - x[i];
                curError += weights[i] * diff * diff;
            }
            if (curError < bestError) {
                std::copy(Laux, Laux + n, L);
                bestError = curError;
                scale = thisScale;
                min = thisMin;
            }
        }
    }
    *theMin = -min;
    return scale;
}

void scaleMinK4(int j, const uint8_t* q, uint8_t* d, uint8_t* m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = uint8_t((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void quantizeQ4_K(const float* x, uint8_t* y)
{
    uint8_t L[kQK], Laux[32];
    float weights[32], mins[8], scales[8];
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 8; ++j) {
        float sumX2 = 0;
        for (int l = 0; l < 32; ++l)
            sumX2 += x[32 * j + l] * x[32 * j + l];
        const float avX = std::sqrt(sumX2 / 32);
        for (int l = 0; l < 32; ++l)
            weights[l] = avX + std::fabs(x[32 * j + l]);
        scales[j] = makeQkx2Quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.0f, 0.1f, 20);
        maxScale = std::max(maxScale, scales[j]);
        maxMin = std::max(maxMin, mins[j]);
    }
    uint8_t* sc = y + 4;
    std::memset(sc, 0, 12);
    const float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f, invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = uint8_t(std::min(63, nearestInt(invScale * scales[j])));
        const uint8_t lm = uint8_t(std::min(63, nearestInt(invMin * mins[j])));
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = uint8_t((ls & 0x0f) | ((lm & 0x0f) << 4));
            sc[j - 4] |= uint8_t((ls >> 4) << 6);
            sc[j] |= uint8_t((lm >> 4) << 6);
        }
    }
    putHalf(y, maxScale / 63.0f);
    putHalf(y + 2, maxMin / 63.0f);
    const float d0 = getHalf(y), dmin0 = getHalf(y + 2);
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        scaleMinK4(j, sc, &s, &m);
        const float d = d0 * s;
        if (d == 0)
            continue;
        const float dm = dmin0 * m;
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = uint8_t(std::clamp(nearestInt((x[32 * j + i] + dm) / d), 0, 15));
    }
    uint8_t* q = y + 16;
    for (int j = 0; j < kQK; j += 64, q += 32)
        for (int l = 0; l < 32; ++l)
            q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
}

void dequantizeQ4_K(const uint8_t* y, float* x)
{
    const float d = getHalf(y), dmin = getHalf(y + 2);
    const uint8_t* sc = y + 4;
    const uint8_t* q = y + 16;
    for (int j = 0, is = 0; j < kQK; j += 64, q += 32, is += 2) {
        uint8_t s, m;
        scaleMinK4(is, sc, &s, &m);
        const float d1 = d * s, m1 = dmin * m;
        scaleMinK4(is + 1, sc, &s, &m);
        const float d2 = d * s, m2 = dmin * m;
        for (int l = 0; l < 32; ++l)
            *x++ = d1 * float(q[l] & 0x0f) - m1;
        for (int l = 0; l < 32; ++l)
            *x++ = d2 * float(q[l] >> 4) - m2;
    }
}

// ---- Q6_K: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8 scales
// (sub-blocks of 16), half d; x = d * scale * (q - 32).

// ggml's make_qx_quants with rmse_type 1 (weights x^2): the scale of a signed sub-block.
float makeQxQuants(int n, int nmax, const float* x, int8_t* L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + n, int8_t(0));
        return 0.0f;
    }
    float iscale = -float(nmax) / max, sumLX = 0, sumL2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
        L[i] = int8_t(l + nmax);
        const float w = x[i] * x[i];
        sumLX += w * x[i] * float(l);
        sumL2 += w * float(l * l);
    }
    float scale = sumL2 != 0 ? sumLX / sumL2 : 0.0f, best = scale * sumLX;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0)
            continue;
        iscale = -(float(nmax) + 0.1f * float(is)) / max;
        sumLX = sumL2 = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1);
            const float w = x[i] * x[i];
            sumLX += w * x[i] * float(l);
            sumL2 += w * float(l * l);
        }
        if (sumL2 > 0 && sumLX * sumLX > best * sumL2) {
            for (int i = 0; i < n; ++i)
                L[i] = int8_t(nmax + std::clamp(nearestInt(iscale * x[i]), -nmax, nmax - 1));
            scale = sumLX / sumL2;
            best = scale * sumLX;
        }
    }
    return scale;
}

void quantizeQ6_K(const float* x, uint8_t* y)
{
    int8_t L[kQK];
    float scales[16], maxScale = 0, maxAbsScale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        scales[ib] = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
        if (std::fabs(scales[ib]) > maxAbsScale) {
            maxAbsScale = std::fabs(scales[ib]);
            maxScale = scales[ib];
        }
    }
    std::memset(y, 0, 210);
    if (maxAbsScale < kGroupMaxEps)
        return;  // all zero (d = 0)
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    const float iscale = -128.0f / maxScale;
    putHalf(y + 208, 1 / iscale);
    for (int ib = 0; ib < 16; ++ib)
        sc[ib] = int8_t(std::min(127, nearestInt(iscale * scales[ib])));
    const float d0 = getHalf(y + 208);
    for (int j = 0; j < 16; ++j) {
        const float d = d0 * float(sc[j]);
        if (d == 0)
            continue;
        for (int i = 0; i < 16; ++i)
            L[16 * j + i] = int8_t(std::clamp(nearestInt(x[16 * j + i] / d), -32, 31) + 32);
    }
    for (int j = 0; j < kQK; j += 128, ql += 64, qh += 32)
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = uint8_t(L[j + l]), q2 = uint8_t(L[j + l + 32]), q3 = uint8_t(L[j + l + 64]),
                          q4 = uint8_t(L[j + l + 96]);
            ql[l] = uint8_t((q1 & 0x0f) | ((q3 & 0x0f) << 4));
            ql[l + 32] = uint8_t((q2 & 0x0f) | ((q4 & 0x0f) << 4));
            qh[l] = uint8_t((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
        }
}

void dequantizeQ6_K(const uint8_t* y, float* x)
{
    const float d = getHalf(y + 208);
    const uint8_t* ql = y;
    const uint8_t* qh = y + 128;
    const int8_t* sc = reinterpret_cast<const int8_t*>(y + 192);
    for (int n = 0; n < kQK; n += 128, x += 128, ql += 64, qh += 32, sc += 8)
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = int((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = int((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            x[l] = d * float(sc[is]) * float(q1);
            x[l + 32] = d * float(sc[is + 2]) * float(q2);
            x[l + 64] = d * float(sc[is + 4]) * float(q3);
            x[l + 96] = d * float(sc[is + 6]) * float(q4);
        }
}

// The block types this file encodes and decodes, one entry each.
struct BlockCodec {
    GgmlType type;
    void (*quantize)(const float* x, uint8_t* y);
    void (*dequantize)(const uint8_t* y, float* x);
};
constexpr BlockCodec kBlockCodecs[] = {
    {GgmlType::Q8_0, quantizeQ8_0, dequantizeQ8_0}, {GgmlType::Q4_0, quantizeQ4_0, dequantizeQ4_0},
    {GgmlType::Q5_0, quantizeQ5_0, dequantizeQ5_0}, {GgmlType::Q4_K, quantizeQ4_K, dequantizeQ4_K},
    {GgmlType::Q6_K, quantizeQ6_K, dequantizeQ6_K},
};

const BlockCodec* blockCodec(GgmlType type)
{
    for (const auto& c : kBlockCodecs)
        if (c.type == type)
            return &c;
    return nullptr;
}

} // namespace

std::optional<GgmlTypeInfo> ggmlTypeInfo(uint32_t id)
{
    for (const auto& t : kTypes)
        if (uint32_t(t.type) == id)
            return t;
    return std::nullopt;
}

const GgmlTypeInfo& ggmlTypeInfo(GgmlType type)
{
    for (const auto& t : kTypes)
        if (t.type == type)
            return t;
    fail("internal: ggml type " + std::to_string(uint32_t(type)) + " has no entry");
}

std::optional<GgmlType> ggmlTypeFromName(std::string_view name)
{
    for (const auto& t : kTypes) {
        const std::string_view n = t.name;
        if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return t.type;
    }
    return std::nullopt;
}

size_t ggmlRowBytes(GgmlType type, int64_t n)
{
    const auto& info = ggmlTypeInfo(type);
    if (n < 0 || n % info.blockSize != 0)
        fail(std::string("a row of ") + std::to_string(n) + " elements cannot be stored as " + info.name +
             " (blocks of " + std::to_string(info.blockSize) + ")");
    return size_t(n / info.blockSize) * info.blockBytes;
}

uint16_t floatToHalf(float f)
{
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
    const uint32_t mant = x & 0x7fffffu;
    const int exp = int((x >> 23) & 0xffu);
    if (exp == 0xff)
        return uint16_t(sign | 0x7c00u | (mant != 0 ? 0x200u : 0u));
    const int e = exp - 127 + 15;
    if (e >= 0x1f)
        return uint16_t(sign | 0x7c00u);
    if (e <= 0) {  // a half subnormal (or zero): the full significand shifted into place
        if (e < -10)
            return sign;
        return uint16_t(sign | shiftRound(mant | 0x800000u, 14 - e));
    }
    // A carry out of the mantissa bumps the exponent, as it should (up to infinity).
    return uint16_t(sign | ((uint32_t(e) << 10) + shiftRound(mant, 13)));
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {
        const float v = std::ldexp(float(mant), -24);
        return sign ? -v : v;
    }
    if (exp == 0x1f)
        return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
    return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t floatToBf16(float f)
{
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return uint16_t((x >> 16) | 64u);  // quiet NaN
    return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bf16ToFloat(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

void quantizeRow(GgmlType type, std::span<const float> row, uint8_t* out)
{
    const auto& info = ggmlTypeInfo(type);
    const int64_t n = int64_t(row.size());
    ggmlRowBytes(type, n);  // checks the block multiple
    const float* x = row.data();
    switch (type) {
    case GgmlType::F32:
        std::memcpy(out, x, size_t(n) * 4);
        return;
    case GgmlType::F16:
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) {
            const uint16_t h = type == GgmlType::F16 ? floatToHalf(x[i]) : floatToBf16(x[i]);
            out[2 * i] = uint8_t(h & 0xff);
            out[2 * i + 1] = uint8_t(h >> 8);
        }
        return;
    default:
        if (const BlockCodec* codec = blockCodec(type)) {
            for (int64_t b = 0; b < n / info.blockSize; ++b)
                codec->quantize(x + b * info.blockSize, out + size_t(b) * info.blockBytes);
            return;
        }
        fail(std::string("writing ggml type ") + info.name + " is not supported (f32, f16, bf16, q8_0, q4_0, q5_0, q4_K, q6_K are)");
    }
}

void dequantizeRow(GgmlType type, const uint8_t* in, std::span<float> out)
{
    const auto& info = ggmlTypeInfo(type);
    const int64_t n = int64_t(out.size());
    ggmlRowBytes(type, n);
    float* x = out.data();
    switch (type) {
    case GgmlType::F32:
        std::memcpy(x, in, size_t(n) * 4);
        return;
    case GgmlType::F16:
    case GgmlType::BF16:
        for (int64_t i = 0; i < n; ++i) {
            const uint16_t h = uint16_t(in[2 * i] | (in[2 * i + 1] << 8));
            x[i] = type == GgmlType::F16 ? halfToFloat(h) : bf16ToFloat(h);
        }
        return;
    default:
        if (const BlockCodec* codec = blockCodec(type)) {
            for (int64_t b = 0; b < n / info.blockSize; ++b)
                codec->dequantize(in + size_t(b) * info.blockBytes, x + b * info.blockSize);
            return;
        }
        fail(std::string("reading ggml type ") + info.name + " is not supported (f32, f16, bf16, q8_0, q4_0, q5_0, q4_K, q6_K are)");
    }
}

} // namespace ft::io
