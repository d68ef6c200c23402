// A fixed pool of compute threads for the forward pass. The calling thread is
// worker 0, so a pool of N threads starts N-1. Workers spin briefly between
// jobs (a decode step issues a few hundred small jobs) and then sleep.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace ember {

class ThreadPool {
 public:
  // fn(thread_index, num_threads): each thread picks its own share of the work.
  using Job = std::function<void(int thread, int num_threads)>;

  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return num_threads_; }

  // Runs fn on every thread (the caller included) and returns when all are done.
  void run(const Job& fn);

  // Splits [0, n) into contiguous chunks, at most one per thread, each a
  // multiple of `grain` (except the last): fn(begin, end).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // The same shares, each worked through front to back in pieces of `piece`
  // indices; a thread done with its own takes pieces from the back of the
  // others', so one that runs slow (its core busy elsewhere, a late wake-up)
  // does not hold up the rest. fn(begin, end) is called once per piece
  // (pieces grow, in multiples of `piece`, past 2^32 of them).
  void parallel_for_balanced(int64_t n, int64_t piece, const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker_loop(int index);

  // A thread's share for parallel_for_balanced, in pieces: [front, back)
  // packed in one word, so that the owner and a thief never take the same one.
  struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
  };

  int num_threads_;
  std::vector<Share> shares_;
  std::vector<std::thread> workers_;
  const Job* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

// Physical cores available to this process (hyper-threads not counted).
int physical_core_count();

}  // namespace ember
