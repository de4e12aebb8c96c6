#include "deploy/gguf_tensor.h"

#include "deploy/gguf_arch.h"
#include "util/error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <span>
#include <thread>
#include <vector>

namespace ft::deploy {

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
        const float* data = src.data_ptr<float>();
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
    });
}

} // namespace ft::deploy
