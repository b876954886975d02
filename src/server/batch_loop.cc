#include "server/batch_loop.h"

#include <algorithm>
#include <future>
#include <optional>

#include "util/log.h"

namespace frugal::server {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

BatchLoop::BatchLoop(engine::Engine& engine, Metrics& metrics, BatchLoopOptions options)
    : engine_(engine), metrics_(metrics), options_(options) {
  const kv::PoolStats s = engine_.blocks().Stats();
  blocks_free_ = s.free;
  // The promise lives in the thread (this constructor may return while set_value finishes).
  std::promise<void> warmed;
  std::future<void> warm = warmed.get_future();
  thread_ = std::thread([this, warmed = std::move(warmed)]() mutable {
    if (options_.warmup_tokens > 0) {
      const auto t0 = std::chrono::steady_clock::now();
      try {
        warmup_status_ = engine_.WarmUp(options_.warmup_tokens);
      } catch (const std::exception& e) {
        warmup_status_ = MakeStatus(StatusCode::kInternal, "warm-up: {}", e.what());
      }
      warmup_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    warmed.set_value();
    Run();
  });
  warm.wait();
}

BatchLoop::~BatchLoop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool BatchLoop::Submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard lock(mu_);
    // Room: --queue waiting requests beyond the running batch's free places (a request that will
    // run at once also passes through the queue: simultaneous arrivals must not take its place
    // from the waiting ones — `--parallel 1 --queue 1` holds two requests, not one).
    const int free_places = std::max(0, options_.parallel - n_running_.load());
    if (n_waiting_.load() + static_cast<int>(queued_.size()) >= options_.queue + free_places) return false;
    queued_.push_back(std::move(job));
  }
  wake_.notify_all();
  return true;
}

void BatchLoop::Cancel(Job& job) {
  job.cancelled = true;
  wake_.notify_all();
}

bool BatchLoop::Idle() const {
  std::lock_guard lock(mu_);
  return queued_.empty() && n_waiting_.load() == 0 && n_running_.load() == 0;
}

LiveGauges BatchLoop::Gauges() const {
  int queued = 0;
  {
    std::lock_guard lock(mu_);
    queued = static_cast<int>(queued_.size());
  }
  return {n_running_.load(), n_waiting_.load() + queued, blocks_used_.load(), blocks_cached_.load(), blocks_free_.load(),
          preemptions_.load()};
}

void BatchLoop::Deliver(Job& job, const engine::GenerationEvent& ev) {
  try {
    job.on_event(ev);
  } catch (const std::exception& e) {  // a sink must not take the engine thread down
    LogError("a response sink failed: {}", e.what());
  }
}

void BatchLoop::Finished(const Job& job, const engine::GenerationEvent& ev) {
  if (!options_.on_finished) return;
  try {
    options_.on_finished(job, ev);
  } catch (const std::exception& e) {
    LogError("recording a finished request failed: {}", e.what());
  }
}

void BatchLoop::Admit() {
  // Cancelled jobs leave first: their blocks return to the pool before this step.
  for (auto& j : running_) {
    if (j->cancelled) {
      if (const std::optional<engine::GenerationEvent> ev = engine_.Cancel(j->engine_id)) Finished(*j, *ev);
      ++metrics_.finished_cancelled;
    }
  }
  std::erase_if(running_, [](const auto& j) { return j->cancelled.load(); });
  std::erase_if(waiting_, [](const auto& j) { return j->cancelled.load(); });
  const int block_tokens = engine_.options().block_tokens;
  while (static_cast<int>(running_.size()) < options_.parallel && !waiting_.empty()) {
    Job& job = *waiting_.front();
    // Admission by the KV budget, first come first served: the oldest waits (and those behind
    // it) until the pool has room for its prompt and a block of growth per running request.
    const kv::PoolStats s = engine_.blocks().Stats();
    const int need = (static_cast<int>(job.request.prompt.size()) + block_tokens) / block_tokens;
    if (!running_.empty() && s.free + s.cached_idle < need + static_cast<int>(running_.size())) break;
    StatusOr<int64_t> id = engine_.Submit(job.request);
    std::shared_ptr<Job> taken = std::move(waiting_.front());
    waiting_.pop_front();
    if (!id.ok()) {
      engine::GenerationEvent ev;
      ev.finish = engine::FinishReason::kError;
      ev.error = id.status();
      ++metrics_.finished_error;
      Deliver(*taken, ev);
      continue;
    }
    taken->engine_id = *id;
    running_.push_back(std::move(taken));
  }
}

void BatchLoop::Dispatch(const std::vector<engine::GenerationEvent>& events) {
  const Clock::time_point now = Clock::now();
  for (const engine::GenerationEvent& ev : events) {
    auto it = std::find_if(running_.begin(), running_.end(), [&](const auto& j) { return j->engine_id == ev.id; });
    if (it == running_.end()) continue;
    Job& job = **it;
    if (!job.counted_prompt) {
      job.counted_prompt = true;
      metrics_.prompt_tokens += static_cast<uint64_t>(ev.usage.prompt_tokens);
      metrics_.cache_hit_tokens += static_cast<uint64_t>(ev.usage.cache_hit_tokens);
      metrics_.cache_miss_tokens += static_cast<uint64_t>(ev.usage.cache_miss_tokens);
      metrics_.cache_hit_disk_tokens += static_cast<uint64_t>(ev.usage.cache_hit_disk_tokens);
      metrics_.time_to_first_token.Observe(Seconds(now - job.arrived));
    } else if (ev.token >= 0) {
      metrics_.inter_token_latency.Observe(Seconds(now - job.last_token));
    }
    if (ev.token >= 0) {
      job.last_token = now;
      if (ev.finish != engine::FinishReason::kStop || !ev.text.empty()) ++metrics_.generation_tokens;
    }
    switch (ev.finish) {
      case engine::FinishReason::kNone: break;
      case engine::FinishReason::kStop: ++metrics_.finished_stop; break;
      case engine::FinishReason::kLength: ++metrics_.finished_length; break;
      case engine::FinishReason::kError: ++metrics_.finished_error; break;
      case engine::FinishReason::kCancelled: ++metrics_.finished_cancelled; break;
    }
    if (ev.finish != engine::FinishReason::kNone) Finished(job, ev);
    if (ev.finish != engine::FinishReason::kNone) metrics_.e2e_latency.Observe(Seconds(now - job.arrived));
    if (!job.cancelled) Deliver(job, ev);
    if (ev.finish != engine::FinishReason::kNone) running_.erase(it);
  }
}

void BatchLoop::Run() {
  std::vector<engine::GenerationEvent> events;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] {
        if (stop_ || !queued_.empty() || !running_.empty()) return true;
        // Idle but with waiting jobs: they can only be cancelled or admitted now.
        return !waiting_.empty();
      });
      if (stop_) return;
      while (!queued_.empty()) {
        waiting_.push_back(std::move(queued_.front()));
        queued_.pop_front();
      }
      n_waiting_ = static_cast<int>(waiting_.size());  // under the lock: Idle() never sees a job in neither
    }
    Admit();
    n_running_ = static_cast<int>(running_.size());  // first: Idle() never sees a job in neither
    n_waiting_ = static_cast<int>(waiting_.size());
    if (!engine_.idle()) {
      events.clear();
      if (Status s = engine_.Step(&events); !s.ok()) {
        // The step itself failed (not one request): every running request ends with the error.
        LogError("engine step failed: {}", s.ToString());
        for (auto& j : running_) {
          engine::GenerationEvent ev;
          ev.id = j->engine_id;
          ev.finish = engine::FinishReason::kError;
          ev.error = s;
          if (const std::optional<engine::GenerationEvent> last = engine_.Cancel(j->engine_id)) {
            ev.usage = last->usage;
            ev.work = last->work;
          }
          events.push_back(std::move(ev));
        }
      }
      Dispatch(events);
    }
    const kv::PoolStats s = engine_.blocks().Stats();
    blocks_used_ = s.in_use;
    blocks_cached_ = s.cached_idle;
    blocks_free_ = s.free;
    preemptions_ = engine_.preemptions();
    n_running_ = static_cast<int>(running_.size());
  }
}

}  // namespace frugal::server
