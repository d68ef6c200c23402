# GGUF and safetensors parsers under libFuzzer (ctest label `fuzz`, ~20 s
# each). Seeds: small valid files written at build time by
# formats_fuzz_seeds (the fixture GGUFs are megabytes), and for safetensors
# also the tiny-qwen2 hf/ checkpoint from the fixtures.
set(formats_seeds ${CMAKE_CURRENT_BINARY_DIR}/formats_seeds)
add_executable(formats_fuzz_seeds ${CMAKE_CURRENT_SOURCE_DIR}/formats_fuzz_seeds.cpp)
target_link_libraries(formats_fuzz_seeds PRIVATE ember_formats)
add_custom_command(
  OUTPUT ${formats_seeds}/gguf/all_types.gguf ${formats_seeds}/gguf/metadata_only.gguf
         ${formats_seeds}/safetensors/small.safetensors ${formats_seeds}/safetensors/scalar.safetensors
  COMMAND formats_fuzz_seeds ${formats_seeds}
  DEPENDS formats_fuzz_seeds
  COMMENT "Writing GGUF and safetensors fuzz seeds")
add_custom_target(formats_fuzz_seed_files ALL
  DEPENDS ${formats_seeds}/gguf/all_types.gguf ${formats_seeds}/safetensors/small.safetensors)

# ember_fuzz instruments only the target's own sources for coverage, so the
# parsers and codecs under test are compiled into each fuzz target (with
# -fsanitize=fuzzer) instead of linked from the uninstrumented libraries.
set(formats_fuzz_code "")
foreach(lib ember_tensor ember_formats)
  get_target_property(lib_dir ${lib} SOURCE_DIR)
  get_target_property(lib_sources ${lib} SOURCES)
  foreach(src ${lib_sources})
    if(IS_ABSOLUTE ${src})
      list(APPEND formats_fuzz_code ${src})
    else()
      list(APPEND formats_fuzz_code ${lib_dir}/${src})
    endif()
  endforeach()
endforeach()

ember_fuzz(gguf_fuzz
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/gguf_fuzz.cpp ${formats_fuzz_code}
  LIBS ember_base nlohmann_json::nlohmann_json
  SEEDS ${formats_seeds}/gguf
  SECONDS 20)
add_dependencies(gguf_fuzz formats_fuzz_seed_files)

set(safetensors_fixture_seeds "")
if(EXISTS ${EMBER_FIXTURES_DIR}/models/tiny-qwen2/hf)
  set(safetensors_fixture_seeds ${EMBER_FIXTURES_DIR}/models/tiny-qwen2/hf)
endif()
ember_fuzz(safetensors_fuzz
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/safetensors_fuzz.cpp ${formats_fuzz_code}
  LIBS ember_base nlohmann_json::nlohmann_json
  SEEDS ${formats_seeds}/safetensors ${safetensors_fixture_seeds}
  SECONDS 20)
add_dependencies(safetensors_fuzz formats_fuzz_seed_files)
