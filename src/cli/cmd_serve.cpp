// `ortlm serve [MODEL]`: the OpenAI-compatible HTTP server (src/server/) on one model, until SIGTERM
// or Ctrl-C, which stop taking requests, let those in flight finish for --shutdown-grace seconds,
// cancel the rest and exit 0.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/session_defaults.hpp"
#include "model/paged_session.hpp"
#include "server/http_server.hpp"

namespace ortlm::cli {

namespace {

struct ServeArgs {
  std::string model;
  SessionOptions session = default_session_options();
  server::ServerOptions server;
  int shutdown_grace_seconds = 10;
  bool quiet = false;
};

void serve(const ServeArgs& args) {
  // Signals go to one thread that waits for them (sigwait), never interrupting the others.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const auto path = args.model.empty() ? default_model_path() : std::filesystem::path(args.model);
  auto model = Model::load(path, args.session);
  server::ServerOptions options = args.server;
  options.log_requests = !args.quiet;
  if (options.api_key.empty())
    if (const char* key = std::getenv("ORTLM_API_KEY")) options.api_key = key;
  server::HttpServer http(model, options);
  std::fprintf(stderr, "ortlm: serving %s on http://%s:%d (OpenAI API under /v1)%s\n", path.string().c_str(),
               options.host.c_str(), http.port(), options.api_key.empty() ? "" : ", API key required");
  if (options.engine.kv_cache != KvCacheKind::dense)  // the engine asked for the paged session
    std::fprintf(stderr, "ortlm: KV cache %s: %s\n", model->paged_session().session ? "paged" : "dense",
                 model->paged_session().note.c_str());
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == 0) return;  // woken by the server stopping on its own
    std::fprintf(stderr, "ortlm: %s: finishing requests in flight (at most %d s)\n",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT", args.shutdown_grace_seconds);
    http.shutdown(std::chrono::seconds(args.shutdown_grace_seconds));
  });
  http.run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // in case run() returned for another reason
  waiter.join();
  std::fprintf(stderr, "ortlm: server stopped\n");
}

}  // namespace

void register_serve(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API");
  cmd->add_option("model", args->model, "Model folder or .onnx file (default: the bundled model)");
  auto& o = args->server;
  cmd->add_option("--host", o.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o.port, "Port (0 = any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--api-key", o.api_key,
                  "Require 'Authorization: Bearer KEY' on /v1/* (default: $ORTLM_API_KEY, else none)");
  cmd->add_option("--model-id", o.model_id, "The model name clients use (default: the folder's name)");
  cmd->add_option("--max-body", o.max_body_bytes, "Largest request body in bytes (413 beyond)")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30))
      ->capture_default_str();
  cmd->add_option("--max-tokens", o.max_tokens,
                  "Most tokens one choice may generate (0 = the context length)")
      ->check(CLI::Range(0, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--max-n", o.max_n, "Most choices (n) and prompts per request")
      ->check(CLI::Range(1, 128))
      ->capture_default_str();
  cmd->add_option("--max-requests", o.max_requests, "Requests in flight at most (503 beyond)")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  cmd->add_option("--batch-size", o.engine.max_batch_rows, "Sequences per forward pass (continuous batching)")
      ->check(CLI::Range(1, kMaxBatchRows))
      ->capture_default_str();
  cmd->add_option("--prefill-chunk", o.engine.prefill_chunk, "Prompt tokens per prefill pass")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--cache-mib", o.engine.prefix_cache_mib, "Prefix cache memory in MiB (0 = off)")
      ->check(CLI::Range(0, kMaxPrefixCacheMib))
      ->capture_default_str();
  add_kv_flags(cmd, o.engine);
  cmd->add_option("--block-size", o.engine.kv_block_size, "KV block size in tokens (paged KV, prefix cache)")
      ->check(CLI::Range(1, kMaxKvBlockSize))
      ->capture_default_str();
  cmd->add_option("--read-timeout", o.read_timeout_seconds, "Seconds a client may stay silent while sending")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", args->shutdown_grace_seconds,
                  "Seconds requests in flight get to finish on SIGTERM before they are cancelled")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "No log line per request");
  add_session_flags(cmd, args->session);
  cmd->callback([args] { serve(*args); });
}

}  // namespace ortlm::cli
