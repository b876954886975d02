// An error as OpenAI's API answers it: an HTTP status and
// {"error":{"message","type","param","code"}}.
#pragma once

#include <string>

namespace frugal::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the offending field; empty: null
  std::string code;   // a machine-readable code; empty: null
};

ApiError BadRequest(std::string message, std::string param = {});
// The JSON body of an error response.
std::string ErrorBody(const ApiError& e);

}  // namespace frugal::server
