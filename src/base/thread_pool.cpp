#include "base/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#if defined(__x86_64__)
#include <immintrin.h>
#define EMBER_CPU_RELAX() _mm_pause()
#else
#define EMBER_CPU_RELAX() ((void)0)
#endif

namespace ember {

namespace {
constexpr int kSpinIterations = 20000;  // a worker's spin before it sleeps between jobs
constexpr int kWaitSpins = 2000;        // the caller's spin before it yields while waiting
}

ThreadPool::ThreadPool(int num_threads) : num_threads_(std::max(1, num_threads)), shares_(num_threads_) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run(const Job& fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  fn(0, num_threads_);
  // Spin briefly, then yield: when the machine is oversubscribed the worker
  // we wait for may need this very core.
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kWaitSpins) EMBER_CPU_RELAX();
    else std::this_thread::yield();
  }
  job_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kSpinIterations; ++spin) {
      if (spin < kWaitSpins) EMBER_CPU_RELAX();
      else std::this_thread::yield();  // let other work have the core, stay quick to wake
      gen = generation_.load(std::memory_order_acquire);
    }
    while (gen == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    (*job_)(index, num_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (n + grain - 1) / grain;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads_, units));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  run([&](int t, int) {
    if (t >= threads) return;
    const int64_t u0 = units * t / threads, u1 = units * (t + 1) / threads;
    const int64_t b = u0 * grain, e = std::min(n, u1 * grain);
    if (b < e) fn(b, e);
  });
}

namespace {
constexpr uint64_t pack(uint32_t front, uint32_t back) { return uint64_t{front} << 32 | back; }

// Takes one piece of share s: the front one (owner) or the back one (thief).
bool take(std::atomic<uint64_t>& s, bool front, uint32_t& piece) {
  uint64_t v = s.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t f = static_cast<uint32_t>(v >> 32), b = static_cast<uint32_t>(v);
    if (f >= b) return false;
    piece = front ? f : b - 1;
    const uint64_t next = front ? pack(f + 1, b) : pack(f, b - 1);
    if (s.compare_exchange_weak(v, next, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  }
}
}  // namespace

void ThreadPool::parallel_for_balanced(int64_t n, int64_t piece,
                                       const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  piece = std::max<int64_t>(1, piece);
  if ((n + piece - 1) / piece > UINT32_MAX) piece *= ((n + piece - 1) / piece + UINT32_MAX - 1) / UINT32_MAX;
  const int64_t pieces = (n + piece - 1) / piece;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads_, pieces));
  if (threads <= 1) {
    for (int64_t b = 0; b < n; b += piece) fn(b, std::min(n, b + piece));
    return;
  }
  for (int t = 0; t < threads; ++t)
    shares_[t].range.store(pack(static_cast<uint32_t>(pieces * t / threads), static_cast<uint32_t>(pieces * (t + 1) / threads)),
                           std::memory_order_relaxed);
  run([&](int t, int) {
    if (t >= threads) return;
    auto work = [&](uint32_t p) { fn(p * piece, std::min(n, (p + 1) * piece)); };
    uint32_t p;
    while (take(shares_[t].range, true, p)) work(p);
    for (int i = 1; i < threads; ++i) {
      auto& other = shares_[(t + i) % threads].range;
      while (take(other, false, p)) work(p);
    }
  });
}

int physical_core_count() {
  // Count distinct (package, core) pairs among the CPUs this process may use.
  cpu_set_t set;
  CPU_ZERO(&set);
  int allowed = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) allowed = CPU_COUNT(&set);
  std::set<std::pair<std::string, std::string>> cores;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (allowed && !CPU_ISSET(cpu, &set)) continue;
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
    std::string p, c;
    if (!(pkg >> p) || !(core >> c)) continue;
    cores.emplace(p, c);
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  if (allowed > 0) return allowed;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace ember
