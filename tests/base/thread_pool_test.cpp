#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ember {
namespace {

// Runs split(pool, n, grain, fn) over pools of 1, 2, 3 and 5 threads and
// several sizes; check(b, e, grain) sees each range; every index must be
// covered exactly once.
template <class Split, class Check>
void expect_every_index_once(Split split, Check check) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 64, 1000}) {
      for (int64_t grain : {1, 4, 32}) {
        std::vector<std::atomic<int>> hits(n);
        split(pool, n, grain, [&](int64_t b, int64_t e) {
          check(b, e, grain);
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
      }
    }
  }
}

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  expect_every_index_once([](ThreadPool& pool, int64_t n, int64_t grain, auto fn) { pool.parallel_for(n, grain, fn); },
                          [](int64_t b, int64_t e, int64_t) { EXPECT_LE(b, e); });
}

TEST(ThreadPool, BalancedParallelForCoversEveryIndexOnce) {
  expect_every_index_once(
      [](ThreadPool& pool, int64_t n, int64_t piece, auto fn) { pool.parallel_for_balanced(n, piece, fn); },
      [](int64_t b, int64_t e, int64_t piece) {
        EXPECT_LT(b, e);
        EXPECT_EQ(b % piece, 0);
        EXPECT_LE(e - b, piece);
      });
}

TEST(ThreadPool, BalancedParallelForMovesWorkOffASlowThread) {
  // thread 0 (the caller) stalls on its first piece: the other takes its remaining pieces
  ThreadPool pool(2);
  std::atomic<int> by_worker{0};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> release{false};
  pool.parallel_for_balanced(64, 1, [&](int64_t b, int64_t) {
    if (std::this_thread::get_id() == caller) {
      if (b == 0)
        while (!release.load()) std::this_thread::yield();
    } else if (by_worker.fetch_add(1) + 1 == 63) {
      release.store(true);
    }
  });
  EXPECT_EQ(by_worker.load(), 63);
}

TEST(ThreadPool, RunCallsEveryThreadAndManyJobsInARow) {
  ThreadPool pool(4);
  std::atomic<int> total{0};
  for (int job = 0; job < 2000; ++job) {
    pool.run([&](int t, int n) {
      EXPECT_EQ(n, 4);
      EXPECT_GE(t, 0);
      EXPECT_LT(t, 4);
      total.fetch_add(1);
    });
  }
  EXPECT_EQ(total.load(), 8000);
}

TEST(ThreadPool, PhysicalCoresIsPositive) { EXPECT_GE(physical_core_count(), 1); }

}  // namespace
}  // namespace ember
