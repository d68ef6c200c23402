#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace ember {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 7, 64, 1000}) {
      for (int64_t grain : {1, 4, 32}) {
        std::vector<std::atomic<int>> hits(n);
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          EXPECT_LE(b, e);
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
      }
    }
  }
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
