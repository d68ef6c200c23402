# The chat template interpreter under libFuzzer (ctest label `fuzz`, ~20 s):
# arbitrary bytes are compiled as a template and rendered against a small
# fixed conversation with tools. Seeds: the fixture chat templates; a
# dictionary of Jinja syntax is written at configure time.
set(chat_fuzz_code "")
get_target_property(chat_dir ember_chat SOURCE_DIR)
get_target_property(chat_sources ember_chat SOURCES)
foreach(src ${chat_sources})
  if(IS_ABSOLUTE ${src})
    list(APPEND chat_fuzz_code ${src})
  else()
    list(APPEND chat_fuzz_code ${chat_dir}/${src})
  endif()
endforeach()

set(chat_fuzz_dict ${CMAKE_CURRENT_BINARY_DIR}/chat_template.dict)
set(chat_fuzz_tokens
  "{{" "}}" "{%" "%}" "{#" "#}" "{%-" "-%}" "{{-" "-}}" "+%}" "{%+"
  "for " " in " "endfor" "if " "elif " "else" "endif" "set " "endset" "macro " "endmacro"
  "call" "endcall" "filter " "endfilter" "raw" "endraw" "with" "endwith" "break" "continue"
  "recursive" "not " " and " " or " " is " "defined" "none" "true" "false" "namespace("
  "loop.index0" "loop.last" "loop.first" "loop(" "caller()" "range(" "raise_exception("
  "strftime_now(" "messages" "message['content']" "message.role" "tools" "tool_calls"
  "add_generation_prompt" "bos_token" "|tojson" "|length" "|trim" "|join(" "|map(" "|select("
  "|selectattr(" "|default(" "|items" "|sort" "|dictsort" "|indent(" "|replace(" "|round"
  ".split(" ".strip(" ".startswith(" ".format(" ".items()" ".get(" "[::-1]" "[-1]" "'\\n'"
  "~" "**" "//" "==" "!=" "<=" ">=")
file(WRITE ${chat_fuzz_dict} "")
foreach(tok ${chat_fuzz_tokens})
  string(REPLACE "\\" "\\\\" esc "${tok}")
  string(REPLACE "\"" "\\\"" esc "${esc}")
  file(APPEND ${chat_fuzz_dict} "\"${esc}\"\n")
endforeach()

set(chat_fuzz_seeds "")
if(EXISTS ${EMBER_FIXTURES_DIR}/chat/templates)
  set(chat_fuzz_seeds ${EMBER_FIXTURES_DIR}/chat/templates)
endif()
ember_fuzz(chat_template_fuzz
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/chat_template_fuzz.cpp ${chat_fuzz_code}
  LIBS ember_base nlohmann_json::nlohmann_json
  SEEDS ${chat_fuzz_seeds}
  ARGS -dict=${chat_fuzz_dict} -max_len=8192
  SECONDS 20)
