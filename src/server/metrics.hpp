#pragma once
// The server's Prometheus metrics (GET /metrics, text exposition format 0.0.4): what the engine
// reports (queue depth, running sequences, tokens, prefix-cache hits, KV blocks) plus what the
// server measures itself (requests by status, cancellations, time to first token and inter-token
// latency histograms). Thread-safe: handler threads and the engine loop record into it.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "ortlm/engine.hpp"

namespace ortlm::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // Appends the _bucket, _sum and _count lines of metric `name`.
  void render(std::string& out, const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);
  void count_request(const std::string& endpoint, int status);
  void count_cancelled();
  std::string render(const EngineStats& engine, size_t requests_in_flight) const;

 private:
  mutable std::mutex mutex_;
  Histogram time_to_first_token_, inter_token_latency_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  uint64_t cancelled_ = 0;
};

}  // namespace ortlm::server
