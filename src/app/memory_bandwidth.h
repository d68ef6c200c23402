// Measures the machine's memory read bandwidth (GB/s) with all pool threads
// streaming through a buffer far larger than the caches: the roofline that
// decode speed is judged against.
#pragma once

#include "base/thread_pool.h"

namespace ember::app {

double measure_read_bandwidth_gbs(ThreadPool& pool, size_t buffer_bytes = size_t{1} << 30, int repeats = 5);

}  // namespace ember::app
