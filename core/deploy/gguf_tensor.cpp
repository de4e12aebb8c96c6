#include "deploy/gguf_tensor.h"

#include "deploy/gguf_arch.h"
#include "util/error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <span>
#include <thread>
#include <vector>

namespace ft::deploy {

namespace {

// Converts `rows` rows of `rowLength` floats to `type` and hands them to `sink`, a slice
// of about 4 MB of output at a time.
void writeRows(const io::GgufWriter::Sink& sink, const float* data, int64_t rows, int64_t rowLength, io::GgmlType type)
{
    const size_t rowBytes = io::ggmlRowBytes(type, rowLength);
    const int64_t slice = std::max<int64_t>(1, (int64_t(4) << 20) / std::max<size_t>(1, rowBytes));
    std::vector<uint8_t> buffer;
    for (int64_t r0 = 0; r0 < rows; r0 += slice) {
        const int64_t n = std::min(slice, rows - r0);
        buffer.resize(size_t(n) * rowBytes);
        // Rows are independent: quantized on the intra-op threads (K-quants search per block).
        const auto quantizeRows = [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r)
                io::quantizeRow(type, std::span<const float>(data + (r0 + r) * rowLength, size_t(rowLength)),
                                buffer.data() + size_t(r) * rowBytes);
        };
        const int64_t threads = std::min<int64_t>(std::max(1, at::get_num_threads()), n);
        std::vector<std::thread> workers;
        for (int64_t k = 1; k < threads; ++k)
            workers.emplace_back(quantizeRows, n * k / threads, n * (k + 1) / threads);
        quantizeRows(0, n / threads);
        for (auto& worker : workers)
            worker.join();
        sink(buffer.data(), buffer.size());
    }
}

} // namespace

void addFloatTensor(io::GgufWriter& w, const std::string& name, const at::Tensor& t, io::GgmlType type,
                    int64_t permuteHeads)
{
    if (!at::isFloatingType(t.scalar_type()))
        fail("GGUF tensor '" + name + "': internal error, expected a floating-point tensor");
    const std::vector<int64_t> dims(t.sizes().rbegin(), t.sizes().rend());
    w.addTensor(name, dims, type, [t, dims, type, permuteHeads](const io::GgufWriter::Sink& sink) {
        // Float only now, one tensor at a time (no copy when it already is a contiguous CPU float).
        at::Tensor src = t.to(at::kCPU, at::kFloat).contiguous();
        const int64_t rowLength = dims.empty() ? 1 : dims[0], rows = t.numel() / std::max<int64_t>(1, rowLength);
        if (permuteHeads > 0) {  // one tensor's copy, never the model's
            src = src.clone();
            if (src.dim() == 1)  // a bias: one value per row
                permuteRowsForInterleavedRope(src.data_ptr<float>(), src.numel(), 1, permuteHeads);
            else
                permuteRowsForInterleavedRope(src.data_ptr<float>(), rows, rowLength, permuteHeads);
        }
        writeRows(sink, src.data_ptr<float>(), rows, rowLength, type);
    });
}

void addStackedFloatTensor(io::GgufWriter& w, const std::string& name, const std::vector<at::Tensor>& parts,
                           io::GgmlType type)
{
    if (parts.empty())
        fail("GGUF tensor '" + name + "': internal error, nothing to stack");
    for (const at::Tensor& p : parts)
        if (!at::isFloatingType(p.scalar_type()) || p.sizes() != parts.front().sizes())
            fail("GGUF tensor '" + name + "': internal error, the stacked parts differ in shape or are not float");
    std::vector<int64_t> dims(parts.front().sizes().rbegin(), parts.front().sizes().rend());
    dims.push_back(int64_t(parts.size()));
    w.addTensor(name, dims, type, [parts, type](const io::GgufWriter::Sink& sink) {
        for (const at::Tensor& p : parts) {  // one part as float at a time, never the stack
            const at::Tensor src = p.to(at::kCPU, at::kFloat).contiguous();
            const int64_t rowLength = src.size(-1);
            writeRows(sink, src.data_ptr<float>(), src.numel() / rowLength, rowLength, type);
        }
    });
}

} // namespace ft::deploy
