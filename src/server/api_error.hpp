#pragma once
// An error answered to an HTTP client in OpenAI's shape: {"error": {"message", "type", "param",
// "code"}} with the HTTP status that goes with it. Anything a client sends that ortlm cannot serve
// is one of these (4xx), never a 500.
#include <stdexcept>
#include <string>

namespace ortlm::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {}, std::string code = {})
      : std::runtime_error(message), status_(status), param_(std::move(param)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // OpenAI's error type for the status: invalid_request_error, authentication_error, ...
  const char* type() const;
  // The JSON body.
  std::string body() const;

 private:
  int status_;
  std::string param_, code_;
};

// 400 naming the field.
inline ApiError bad_request(std::string message, std::string param = {}) {
  return ApiError(400, std::move(message), std::move(param));
}

}  // namespace ortlm::server
