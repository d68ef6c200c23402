#include "app/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace ember::app {
namespace {

// Eight independent accumulators keep several loads in flight; the AVX2
// clone reads 32 bytes per load where the CPU has it, as the kernels do.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("avx2", "default")))
#endif
void xor_range(const uint64_t* p, size_t n, uint64_t* sink) {
  // Four streams a quarter apart, as a kernel reading several weight rows,
  // with software prefetch ahead of each.
  uint64_t a[4][8] = {};
  const size_t q = n / 4 / 8 * 8;
  for (size_t i = 0; i < q; i += 8) {
    for (int s = 0; s < 4; ++s) {
      __builtin_prefetch(p + s * q + i + 256);
      for (int k = 0; k < 8; ++k) a[s][k] ^= p[s * q + i + k];
    }
  }
  for (size_t i = 4 * q; i < n; ++i) a[0][0] ^= p[i];
  for (int k = 0; k < 8; ++k) sink[k] = a[0][k] ^ a[1][k] ^ a[2][k] ^ a[3][k];
}

}  // namespace

double measure_read_bandwidth_gbs(ThreadPool& pool, size_t buffer_bytes, int repeats) {
  const size_t n = buffer_bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new uint64_t[n]);
  pool.parallel_for(static_cast<int64_t>(n), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i) * 2654435761u;
  });
  std::vector<uint64_t> sinks(pool.size() * 8);
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.run([&](int t, int nt) {
      const size_t b = n * t / nt, e = n * (t + 1) / nt;
      xor_range(buf.get() + b, e - b, &sinks[t * 8]);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(buffer_bytes) / s / 1e9);
  }
  volatile uint64_t keep = 0;
  for (uint64_t v : sinks) keep = keep ^ v;
  (void)keep;
  return best;
}

}  // namespace ember::app
