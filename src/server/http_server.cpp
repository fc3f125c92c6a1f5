#include "server/http_server.hpp"

#include <httplib.h>

#include <cstdio>
#include <ctime>
#include <mutex>

#include "ortlm/error.hpp"
#include "server/api_error.hpp"
#include "server/completion_request.hpp"
#include "server/completion_response.hpp"
#include "server/engine_loop.hpp"
#include "server/metrics.hpp"

namespace ortlm::server {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

void reply_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(e.body(), "application/json");
}

// Compares in time independent of where the strings differ (an API key check).
bool equal_constant_time(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i % std::max<size_t>(b.size(), 1)]);
  return diff == 0 && !b.empty();
}

const char* endpoint_label(const std::string& path) {
  for (const char* known : {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"})
    if (path == known) return known;
  return path.rfind("/v1/models/", 0) == 0 ? "/v1/models/{id}" : "other";
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  ServedModel served;
  Metrics metrics;
  std::unique_ptr<EngineLoop> loop;
  httplib::Server http;
  int port = 0;
  std::mutex log_mutex;

  Impl(std::shared_ptr<Model> model, ServerOptions opts);
  void routes();
  void completion(const httplib::Request& req, httplib::Response& res, Endpoint endpoint);
  void log(const std::string& line) {
    if (!options.log_requests) return;
    std::lock_guard lock(log_mutex);
    std::fprintf(stderr, "%s %s\n", utc_now().c_str(), line.c_str());
  }
};

HttpServer::Impl::Impl(std::shared_ptr<Model> model, ServerOptions opts) : options(std::move(opts)) {
  const int32_t context = model->config().context_length;
  if (context <= 0) throw Error("the model's context length is unknown: give it with --context N");
  if (options.max_tokens < 0 || options.max_tokens > context)
    throw Error("--max-tokens must be in [0, " + std::to_string(context) + "] (0 = the context length)");
  if (options.max_n < 1 || options.max_n > 128) throw Error("--max-n must be in [1, 128]");
  if (options.max_requests < 1 || options.max_requests > 4096)
    throw Error("--max-requests must be in [1, 4096]");
  if (options.max_body_bytes < 1024) throw Error("--max-body must be at least 1 KiB");
  served.chat_template = ChatTemplate::from_model_folder(model->folder());
  served.id = options.model_id.empty() ? model->folder().filename().string() : options.model_id;
  if (served.id.empty()) served.id = "model";
  served.max_tokens = options.max_tokens > 0 ? options.max_tokens : context;
  served.max_n = options.max_n;
  served.model = model;
  loop = std::make_unique<EngineLoop>(model, options.engine, options.max_requests, metrics);

  // Each streaming request holds a worker thread: room for all of them, and for /health and 503s.
  const size_t threads = options.max_requests + 8;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.read_timeout_seconds, 0);
  http.set_write_timeout(options.write_timeout_seconds, 0);
  http.set_keep_alive_timeout(options.read_timeout_seconds);
  routes();
  port = options.port == 0 ? http.bind_to_any_port(options.host)
                           : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port <= 0)
    throw Error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                " (address in use, or not an address of this machine)");
}

void HttpServer::Impl::routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (options.api_key.empty() || req.path.rfind("/v1/", 0) != 0)
      return httplib::Server::HandlerResponse::Unhandled;
    if (equal_constant_time(req.get_header_value("Authorization"), "Bearer " + options.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    reply_error(
        res, ApiError(401, "invalid or missing API key (Authorization: Bearer KEY)", {}, "invalid_api_key"));
    return httplib::Server::HandlerResponse::Handled;
  });
  // Errors httplib answers itself (no route, body too large, bad request line) in OpenAI's shape.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413)
      reply_error(res, ApiError(413, "the request body is larger than " +
                                         std::to_string(options.max_body_bytes) + " bytes"));
    else if (res.status == 404)
      reply_error(
          res, ApiError(404, "no route " + req.method + " " + req.path.substr(0, 200) +
                                 " (see GET /v1/models, POST /v1/chat/completions, POST /v1/completions)"));
    else
      reply_error(res, ApiError(res.status,
                                "the request could not be read (HTTP " + std::to_string(res.status) + ")"));
    // A request that could not be read (too slow, too large, malformed) ends its connection.
    if (res.status != 404) res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    reply_error(res, ApiError(500, "internal error"));
  });
  http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const std::string label = endpoint_label(req.path);
    metrics.count_request(label, res.status);
    const bool logged_by_handler = res.status == 200 && req.method == "POST";
    if (!logged_by_handler) log(req.method + " " + label + " " + std::to_string(res.status));
  });

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const bool draining = loop->draining();
    res.status = draining ? 503 : 200;
    res.set_content(json{{"status", draining ? "draining" : "ok"}}.dump(), "application/json");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.render(loop->stats(), loop->in_flight()), "text/plain; version=0.0.4");
  });
  auto model_object = [this] {
    return json{{"id", served.id}, {"object", "model"}, {"created", 0}, {"owned_by", "ortlm"}};
  };
  http.Get("/v1/models", [model_object](const httplib::Request&, httplib::Response& res) {
    res.set_content(json{{"object", "list"}, {"data", json::array({model_object()})}}.dump(),
                    "application/json");
  });
  http.Get(R"(/v1/models/(.+))", [this, model_object](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != served.id)
      return reply_error(res, ApiError(404, "the model '" + std::string(req.matches[1]) + "' does not exist",
                                       "model", "model_not_found"));
    res.set_content(model_object().dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completion(req, res, Endpoint::chat);
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    completion(req, res, Endpoint::completions);
  });
}

void HttpServer::Impl::completion(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
  const auto start = Clock::now();
  auto request = std::make_shared<CompletionRequest>();
  try {
    *request = endpoint == Endpoint::chat ? parse_chat_request(req.body, served)
                                          : parse_completion_request(req.body, served);
  } catch (const ApiError& e) {
    return reply_error(res, e);
  }
  std::vector<std::pair<std::vector<int32_t>, GenerationOptions>> choices;
  for (const auto& prompt : request->prompts)
    for (int32_t j = 0; j < request->n; ++j) {
      GenerationOptions options = request->options;
      if (options.seed) *options.seed += static_cast<uint64_t>(choices.size());  // n choices differ
      choices.emplace_back(prompt, std::move(options));
    }
  auto handle = loop->submit(std::move(choices));
  if (!handle)
    return reply_error(res, loop->draining()
                                ? ApiError(503, "the server is shutting down")
                                : ApiError(503, "too many requests in flight (" +
                                                    std::to_string(options.max_requests) + "); retry later"));
  auto response = std::make_shared<CompletionResponse>(*request, served.id, served.model->tokenizer());
  const std::string route = endpoint == Endpoint::chat ? "/v1/chat/completions" : "/v1/completions";
  auto log_done = [this, route, start, request](const std::vector<GenerationResult>& results,
                                                const char* how) {
    size_t prompt = 0, completion = 0;
    for (const auto& p : request->prompts) prompt += p.size();
    for (const auto& r : results) completion += r.new_ids.size();
    char line[256];
    std::snprintf(line, sizeof line, "POST %s %s prompt=%zu completion=%zu choices=%zu time=%.3fs",
                  route.c_str(), how, prompt, completion, results.size(), seconds_since(start));
    log(line);
  };

  if (!request->stream) {
    std::vector<GenerationResult> results(response->choices());
    size_t remaining = results.size();
    std::vector<ChoiceEvent> events;
    while (remaining > 0) {
      handle->wait(events, std::chrono::milliseconds(500));
      for (auto& e : events)
        if (e.kind == ChoiceEvent::Kind::done) {
          results[e.choice] = std::move(e.result);
          --remaining;
        }
    }
    for (const auto& r : results)
      if (r.stop_reason == StopReason::error) {
        log_done(results, "500");
        return reply_error(res, ApiError(500, "generation failed: " + r.error));
      }
    res.set_content(response->body(results), "application/json");
    log_done(results, "200");
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [handle, response, log_done](size_t, httplib::DataSink& sink) {
        std::vector<GenerationResult> results(response->choices());
        auto write = [&](const std::string& s) { return s.empty() || sink.write(s.data(), s.size()); };
        auto gone = [&] {
          handle->cancel();  // the client went away: its sequences are aborted, their KV freed
          log_done(results, "disconnected");
          return false;
        };
        for (size_t c = 0; c < results.size(); ++c)
          if (!write(response->stream_start(c))) return gone();
        size_t remaining = results.size();
        std::vector<ChoiceEvent> events;
        while (remaining > 0) {
          if (!handle->wait(events, std::chrono::milliseconds(200))) {
            if (sink.is_writable && !sink.is_writable()) return gone();
            continue;
          }
          for (auto& e : events) {
            if (e.kind == ChoiceEvent::Kind::text) {
              if (!write(response->stream_text(e.choice, e.text))) return gone();
              continue;
            }
            --remaining;
            results[e.choice] = std::move(e.result);
            const auto& r = results[e.choice];
            const std::string end = r.stop_reason == StopReason::error
                                        ? sse(ApiError(500, "generation failed: " + r.error).body())
                                    : r.stop_reason == StopReason::cancelled && !handle->cancelled()
                                        ? sse(ApiError(503, "the server is shutting down").body())
                                        : response->stream_end(e.choice, r);
            if (!write(end)) return gone();
          }
        }
        if (!write(response->stream_finish(results))) return gone();
        sink.done();
        log_done(results, "200 stream");
        return true;
      });
}

HttpServer::HttpServer(std::shared_ptr<Model> model, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), std::move(options))) {}

HttpServer::~HttpServer() {
  impl_->loop->drain(Clock::now());
  impl_->http.stop();
}

int HttpServer::port() const { return impl_->port; }

void HttpServer::run() { impl_->http.listen_after_bind(); }

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  impl_->loop->drain(Clock::now() + grace);
  impl_->http.stop();
}

}  // namespace ortlm::server
