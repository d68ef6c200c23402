// An error as the OpenAI API (and vLLM) reports it:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
// with the HTTP status it goes with.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ember::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "BadRequestError";
  std::string param;   // the offending field; empty: null
  std::string code;    // empty: the numeric status (vLLM writes it so)

  nlohmann::ordered_json to_json() const;
};

inline ApiError bad_request(std::string param, std::string message) {
  return ApiError{400, std::move(message), "BadRequestError", std::move(param), ""};
}

// A Status from a lower layer as a 400: "field: why" names the field.
ApiError bad_request_from(const Status& s, const std::string& default_param = "");

}  // namespace ember::server
