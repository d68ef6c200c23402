# The tokenizer under libFuzzer (ctest label `fuzz`, 20 s): arbitrary bytes,
# seeded with the fixture texts written one per file at build time.
set(tokenizer_dir ${EMBER_FIXTURES_DIR}/tokenizer/deepseek-r1-distill-qwen-1.5b)
if(EXISTS ${tokenizer_dir}/tokenizer.json)
  set(tokenizer_fuzz_code "")
  get_target_property(lib_dir ember_tokenizer SOURCE_DIR)
  get_target_property(lib_sources ember_tokenizer SOURCES)
  foreach(src ${lib_sources})
    list(APPEND tokenizer_fuzz_code ${lib_dir}/${src})
  endforeach()

  # Seeds: each "text" of tokenizer/public.jsonl as a file.
  set(tokenizer_seeds ${CMAKE_CURRENT_BINARY_DIR}/tokenizer_seeds)
  add_executable(tokenizer_fuzz_seeds ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_fuzz_seeds.cpp)
  target_link_libraries(tokenizer_fuzz_seeds PRIVATE nlohmann_json::nlohmann_json)
  add_custom_command(OUTPUT ${tokenizer_seeds}/seed_000
    COMMAND tokenizer_fuzz_seeds ${EMBER_FIXTURES_DIR}/tokenizer/public.jsonl ${tokenizer_seeds}
    DEPENDS tokenizer_fuzz_seeds COMMENT "Writing tokenizer fuzz seeds")
  add_custom_target(tokenizer_fuzz_seed_files ALL DEPENDS ${tokenizer_seeds}/seed_000)

  ember_fuzz(tokenizer_fuzz
    SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tokenizer_fuzz.cpp ${tokenizer_fuzz_code}
    LIBS ember_base PkgConfig::ONIG PkgConfig::UTF8PROC nlohmann_json::nlohmann_json simdjson::simdjson
    SEEDS ${tokenizer_seeds}
    ARGS -max_len=4096
    SECONDS 20)
  target_include_directories(tokenizer_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(tokenizer_fuzz PRIVATE EMBER_FUZZ_TOKENIZER_DIR="${tokenizer_dir}")
  add_dependencies(tokenizer_fuzz tokenizer_fuzz_seed_files)
endif()
