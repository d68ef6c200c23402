add_executable(kernels_bench ${CMAKE_CURRENT_LIST_DIR}/kernels_bench.cpp)
target_link_libraries(kernels_bench PRIVATE ember_kernels benchmark::benchmark benchmark::benchmark_main)
