#include "server/metrics.hpp"

#include <cstdio>

namespace ortlm::server {

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         number(value) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : time_to_first_token_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      inter_token_latency_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(mutex_);
  time_to_first_token_.observe(seconds);
}

void Metrics::observe_inter_token_latency(double seconds) {
  std::lock_guard lock(mutex_);
  inter_token_latency_.observe(seconds);
}

void Metrics::count_request(const std::string& endpoint, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
}

void Metrics::count_cancelled() {
  std::lock_guard lock(mutex_);
  ++cancelled_;
}

std::string Metrics::render(const EngineStats& e, size_t requests_in_flight) const {
  std::string out;
  metric(out, "ortlm_requests_in_flight", "gauge", "HTTP requests queued or being generated.",
         static_cast<double>(requests_in_flight));
  metric(out, "ortlm_sequences_waiting", "gauge", "Sequences queued in the engine, not yet admitted.",
         static_cast<double>(e.waiting));
  metric(out, "ortlm_sequences_running", "gauge", "Sequences being generated.",
         static_cast<double>(e.running));
  metric(out, "ortlm_kv_rows", "gauge", "KV cache rows the running sequences hold.",
         static_cast<double>(e.rows));
  metric(out, "ortlm_prompt_tokens_total", "counter", "Prompt tokens of admitted sequences.",
         static_cast<double>(e.prompt_tokens));
  metric(out, "ortlm_prompt_tokens_cached_total", "counter",
         "Prompt tokens loaded from the prefix cache instead of computed.",
         static_cast<double>(e.cached_prompt_tokens));
  metric(out, "ortlm_generation_tokens_total", "counter", "Tokens generated.",
         static_cast<double>(e.generated_tokens));
  metric(out, "ortlm_prefix_cache_hit_rate", "gauge", "Share of prompt tokens found in the prefix cache.",
         e.prompt_tokens ? static_cast<double>(e.cached_prompt_tokens) / static_cast<double>(e.prompt_tokens)
                         : 0.0);
  metric(out, "ortlm_kv_blocks_used", "gauge",
         "KV blocks referenced by running sequences (the paged pool, or the prefix cache's).", e.blocks_used);
  metric(out, "ortlm_kv_blocks_cached", "gauge", "KV blocks kept for reuse by the prefix cache, evictable.",
         e.blocks_cached);
  metric(out, "ortlm_kv_blocks_free", "gauge", "KV blocks free.", e.blocks_free);
  metric(out, "ortlm_kv_blocks_evicted_total", "counter", "Cached KV blocks evicted to make room.",
         static_cast<double>(e.blocks_evicted));
  metric(out, "ortlm_kv_paged", "gauge", "1 when the KV lives in a paged block pool, 0 when in dense rows.",
         e.paged ? 1.0 : 0.0);
  metric(out, "ortlm_sequences_preempted_total", "counter",
         "Sequences preempted for want of KV blocks, recomputed later.", static_cast<double>(e.preemptions));
  std::lock_guard lock(mutex_);
  metric(out, "ortlm_sequences_cancelled_total", "counter",
         "Sequences cancelled before their end (a client gone, a shutdown).",
         static_cast<double>(cancelled_));
  out += "# HELP ortlm_requests_total HTTP requests answered, by endpoint and status.\n";
  out += "# TYPE ortlm_requests_total counter\n";
  for (const auto& [key, count] : requests_)
    out += "ortlm_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(count) + "\n";
  out += "# HELP ortlm_time_to_first_token_seconds Time from a request's arrival to its first token.\n";
  out += "# TYPE ortlm_time_to_first_token_seconds histogram\n";
  time_to_first_token_.render(out, "ortlm_time_to_first_token_seconds");
  out += "# HELP ortlm_inter_token_latency_seconds Time between two tokens of one sequence.\n";
  out += "# TYPE ortlm_inter_token_latency_seconds histogram\n";
  inter_token_latency_.render(out, "ortlm_inter_token_latency_seconds");
  return out;
}

}  // namespace ortlm::server
