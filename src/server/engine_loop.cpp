#include "server/engine_loop.hpp"

#include <algorithm>

#include "ortlm/error.hpp"

namespace ortlm::server {

using Clock = std::chrono::steady_clock;

bool RequestHandle::wait(std::vector<ChoiceEvent>& out, std::chrono::milliseconds timeout) {
  out.clear();
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  while (!events_.empty()) {
    out.push_back(std::move(events_.front()));
    events_.pop_front();
  }
  return !out.empty();
}

void RequestHandle::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
}

bool RequestHandle::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

void RequestHandle::push(ChoiceEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

EngineLoop::EngineLoop(std::shared_ptr<const Model> model, const EngineOptions& options, size_t max_requests,
                       Metrics& metrics)
    : engine_(std::move(model), options), metrics_(metrics), max_requests_(max_requests) {
  thread_ = std::thread([this] { run(); });
}

EngineLoop::~EngineLoop() { drain(Clock::now()); }

std::shared_ptr<RequestHandle> EngineLoop::submit(
    std::vector<std::pair<std::vector<int32_t>, GenerationOptions>> choices) {
  auto handle = std::make_shared<RequestHandle>();
  handle->submitted_ = Clock::now();
  for (auto& [prompt, options] : choices) handle->choices_.push_back({std::move(prompt), std::move(options)});
  handle->last_token_.resize(handle->choices_.size());
  {
    std::lock_guard lock(mutex_);
    if (draining_ || in_flight_ >= max_requests_) return nullptr;
    ++in_flight_;
    pending_.push_back(handle);
  }
  wake_.notify_one();
  return handle;
}

void EngineLoop::drain(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    stop_ = true;
    deadline_ = deadline;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool EngineLoop::draining() const {
  std::lock_guard lock(mutex_);
  return draining_;
}

size_t EngineLoop::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

EngineStats EngineLoop::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void EngineLoop::run() {
  std::vector<std::shared_ptr<RequestHandle>> pending;
  for (;;) {
    bool past_deadline = false;
    {
      std::unique_lock lock(mutex_);
      // Idle: sleep until a request comes. Busy: poll between steps (cancellations need no wake-up).
      wake_.wait(lock, [&] { return stop_ || !pending_.empty() || !active_.empty(); });
      pending.swap(pending_);
      if (stop_ && pending.empty() && active_.empty()) break;
      past_deadline = stop_ && Clock::now() >= deadline_;
    }
    add_pending(pending);
    pending.clear();
    if (past_deadline)
      for (auto& handle : active_) handle->cancel();
    abort_cancelled();
    if (engine_.has_unfinished()) engine_.step();
    deliver_finished();
    const EngineStats stats = engine_.stats();
    std::lock_guard lock(mutex_);
    stats_ = stats;
  }
}

void EngineLoop::add_pending(std::vector<std::shared_ptr<RequestHandle>>& pending) {
  for (auto& handle : pending) {
    active_.push_back(handle);
    RequestHandle* h = handle.get();
    for (size_t c = 0; c < h->choices_.size(); ++c) {
      auto& choice = h->choices_[c];
      if (h->cancelled()) {
        choice.done = true;
        ChoiceEvent done{ChoiceEvent::Kind::done, c, {}, {}};
        done.result.stop_reason = StopReason::cancelled;
        h->push(std::move(done));
        continue;
      }
      auto on_token = [this, h, c](int32_t id, std::string_view text) {
        if (id >= 0) {  // a token (id -1 is text held back until the end)
          const auto now = Clock::now();
          auto& last = h->last_token_[c];
          const auto since = now - (last == Clock::time_point{} ? h->submitted_ : last);
          const double seconds = std::chrono::duration<double>(since).count();
          if (last == Clock::time_point{})
            metrics_.observe_time_to_first_token(seconds);
          else
            metrics_.observe_inter_token_latency(seconds);
          last = now;
        }
        if (!text.empty()) h->push({ChoiceEvent::Kind::text, c, std::string(text), {}});
        return !h->cancelled();
      };
      try {
        choice.id = engine_.add_request(choice.prompt, choice.options, on_token);
        choice.added = true;
        owners_.emplace(choice.id, Owner{h, c});
      } catch (const Error& e) {
        choice.done = true;
        ChoiceEvent done{ChoiceEvent::Kind::done, c, {}, {}};
        done.result.stop_reason = StopReason::error;
        done.result.error = e.what();
        h->push(std::move(done));
      }
    }
  }
  deliver_finished();  // requests whose choices all ended at once
}

void EngineLoop::abort_cancelled() {
  for (auto& handle : active_) {
    if (!handle->cancelled()) continue;
    for (auto& choice : handle->choices_)
      if (choice.added && !choice.done) engine_.abort(choice.id);
  }
}

void EngineLoop::deliver_finished() {
  for (auto& [id, result] : engine_.take_finished()) {
    const auto it = owners_.find(id);
    if (it == owners_.end()) continue;
    const Owner owner = it->second;
    owners_.erase(it);
    owner.handle->choices_[owner.choice].done = true;
    if (result.stop_reason == StopReason::cancelled) metrics_.count_cancelled();
    owner.handle->push({ChoiceEvent::Kind::done, owner.choice, {}, std::move(result)});
  }
  size_t finished = 0;
  std::erase_if(active_, [&](const std::shared_ptr<RequestHandle>& handle) {
    const bool done = std::all_of(handle->choices_.begin(), handle->choices_.end(),
                                  [](const RequestHandle::Choice& c) { return c.done; });
    finished += done;
    return done;
  });
  if (finished > 0) {
    std::lock_guard lock(mutex_);
    in_flight_ -= finished;
  }
}

}  // namespace ortlm::server
