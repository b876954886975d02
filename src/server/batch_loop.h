// Continuous batching: the engine thread. Requests wait in a bounded FIFO queue; between steps
// the loop admits the oldest while fewer than `parallel` run and the KV pool has room for its
// prompt, drops cancelled ones (their blocks go back to the pool before the next step), runs one
// engine step (decode tokens of all running requests plus prefill chunks) and hands each event to
// its request's sink. The engine preempts when the pool fills (engine.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "server/metrics.h"

namespace frugal::server {

// One request's generation. on_event runs on the engine thread, once per event; the last event
// has finish != kNone (an error before admission too). It must not block.
struct Job {
  engine::GenerationRequest request;
  std::string billed_tenant;  // who the ledger bills (X-Tenant or `user`), even when the cache is shared
  std::function<void(const engine::GenerationEvent&)> on_event;
  std::atomic<bool> cancelled{false};
  std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now();
  // Engine thread only.
  int64_t engine_id = 0;
  bool counted_prompt = false;
  std::chrono::steady_clock::time_point last_token{};
};

struct BatchLoopOptions {
  int parallel = 8;  // requests in the running batch at most
  int queue = 64;    // requests waiting for admission at most (more: refused)
  // Runs on the engine thread with the final event (usage and work) of every admitted job,
  // however it ended (stop, length, error, cancelled): the ledger's feed. Must not block.
  std::function<void(const Job&, const engine::GenerationEvent&)> on_finished;
  // > 0: the engine thread first runs Engine::WarmUp with this many tokens (on that thread, so
  // the memory it leaves warm is the memory its steps allocate from), and the constructor
  // returns when it is done.
  int warmup_tokens = 0;
};

class BatchLoop {
 public:
  BatchLoop(engine::Engine& engine, Metrics& metrics, BatchLoopOptions options);
  ~BatchLoop();  // stops the thread; requests still queued or running get no further event
  // The warm-up's outcome and seconds (OK and 0 without one).
  const Status& warmup_status() const { return warmup_status_; }
  double warmup_seconds() const { return warmup_s_; }
  BatchLoop(const BatchLoop&) = delete;
  BatchLoop& operator=(const BatchLoop&) = delete;

  // Queues a job; false when the queue is full (the job is not taken).
  bool Submit(std::shared_ptr<Job> job);
  // Marks a job cancelled; the loop drops it before its next step.
  void Cancel(Job& job);
  // No job queued or running.
  bool Idle() const;
  LiveGauges Gauges() const;

 private:
  void Run();
  void Admit();
  void Dispatch(const std::vector<engine::GenerationEvent>& events);
  void Deliver(Job& job, const engine::GenerationEvent& ev);
  void Finished(const Job& job, const engine::GenerationEvent& ev);

  engine::Engine& engine_;
  Metrics& metrics_;
  const BatchLoopOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queued_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  // Engine thread only.
  std::deque<std::shared_ptr<Job>> waiting_;
  std::vector<std::shared_ptr<Job>> running_;
  // Published for scrapes and Idle(); n_waiting_ counts waiting_ (queued_ is counted apart).
  std::atomic<int> n_running_{0}, n_waiting_{0}, blocks_used_{0}, blocks_cached_{0}, blocks_free_{0};
  std::atomic<int64_t> preemptions_{0};
  Status warmup_status_;
  double warmup_s_ = 0;
  std::thread thread_;
};

}  // namespace frugal::server
