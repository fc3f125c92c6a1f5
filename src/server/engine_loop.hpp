#pragma once
// The one thread that owns the server's Engine. HTTP handler threads submit requests (each with one
// or more choices) and read their events; the loop adds them to the engine, steps it while anything
// is unfinished (continuous batching: requests join and leave between steps), and sleeps when idle.
// Cancelling (a client gone) aborts the request's sequences at the next step, which frees their KV.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ortlm/engine.hpp"
#include "server/metrics.hpp"

namespace ortlm::server {

struct ChoiceEvent {
  enum class Kind { text, done } kind = Kind::text;
  size_t choice = 0;
  std::string text;         // text: what the new token completed (possibly empty)
  GenerationResult result;  // done: the choice's result (stop_reason error: result.error says why)
};

// One HTTP request's choices, shared by its handler thread and the loop.
class RequestHandle {
 public:
  // Waits up to `timeout` for events and moves them into `out` (cleared first). Returns whether
  // there were any.
  bool wait(std::vector<ChoiceEvent>& out, std::chrono::milliseconds timeout);
  // The client is gone (or gave up): the loop aborts the choices still running.
  void cancel();
  bool cancelled() const;

 private:
  friend class EngineLoop;
  struct Choice {
    std::vector<int32_t> prompt;
    GenerationOptions options;
    RequestId id = 0;
    bool added = false, done = false;
  };
  void push(ChoiceEvent event);

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<ChoiceEvent> events_;
  bool cancelled_ = false;
  std::vector<Choice> choices_;  // owned by the loop thread once submitted
  std::chrono::steady_clock::time_point submitted_;
  std::vector<std::chrono::steady_clock::time_point> last_token_;  // per choice (loop thread)
};

class EngineLoop {
 public:
  // `max_requests`: HTTP requests in flight (queued or running) at most; more are refused.
  EngineLoop(std::shared_ptr<const Model> model, const EngineOptions& options, size_t max_requests,
             Metrics& metrics);
  ~EngineLoop();
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // Queues one request with one choice per (prompt, options). Returns null when the server is full
  // or draining (the caller answers 503).
  std::shared_ptr<RequestHandle> submit(
      std::vector<std::pair<std::vector<int32_t>, GenerationOptions>> choices);
  // Stops taking requests; lets the ones in flight finish until `deadline`, then cancels them; returns
  // once none is left and the loop has stopped.
  void drain(std::chrono::steady_clock::time_point deadline);
  bool draining() const;
  size_t in_flight() const;
  EngineStats stats() const;

 private:
  void run();
  void add_pending(std::vector<std::shared_ptr<RequestHandle>>& pending);
  void abort_cancelled();
  void deliver_finished();

  Engine engine_;
  Metrics& metrics_;
  size_t max_requests_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<RequestHandle>> pending_;
  size_t in_flight_ = 0;
  bool draining_ = false, stop_ = false;
  std::chrono::steady_clock::time_point deadline_;
  EngineStats stats_;
  // Loop thread only.
  std::vector<std::shared_ptr<RequestHandle>> active_;
  struct Owner {
    RequestHandle* handle;
    size_t choice;
  };
  std::unordered_map<RequestId, Owner> owners_;  // engine request -> its handle and choice
  std::thread thread_;
};

}  // namespace ortlm::server
