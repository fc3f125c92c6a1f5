#include "server/api_error.hpp"

#include <nlohmann/json.hpp>

namespace ortlm::server {

const char* ApiError::type() const {
  switch (status_) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
      return "server_overloaded";
    default:
      return status_ >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string ApiError::body() const {
  nlohmann::json error = {{"message", what()},
                          {"type", type()},
                          {"param", param_.empty() ? nlohmann::json(nullptr) : nlohmann::json(param_)},
                          {"code", code_.empty() ? nlohmann::json(nullptr) : nlohmann::json(code_)}};
  // Messages may quote client bytes: replace invalid UTF-8 rather than fail to answer.
  return nlohmann::json{{"error", error}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ortlm::server
