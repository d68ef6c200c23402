add_executable(tokenizer_bench ${CMAKE_CURRENT_LIST_DIR}/tokenizer_bench.cpp)
target_link_libraries(tokenizer_bench PRIVATE ember_tokenizer benchmark::benchmark)
target_compile_definitions(tokenizer_bench PRIVATE EMBER_FIXTURES_DIR="${EMBER_FIXTURES_DIR}")
