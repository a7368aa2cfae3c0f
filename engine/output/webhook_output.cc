#include "engine/output/webhook_output.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>

#include "engine/output/http_client.h"
#include "engine/output/webhook_url.h"

namespace gsoc::output {

namespace {

namespace http = boost::beast::http;
using std::chrono::milliseconds;

constexpr Clock::time_point kNoDeadline = Clock::time_point::max();
constexpr auto kRejectLogInterval = std::chrono::seconds(60);
constexpr size_t kLoggedBodyBytes = 200;

std::string UserAgent() {
#ifdef GSOC_VERSION
  return "gsoc/" GSOC_VERSION;
#else
  return "gsoc";
#endif
}

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void ValidateHeader(const std::string& name, const std::string& value) {
  if (name.empty() || !std::ranges::all_of(name, [](char c) { return IsTokenChar(c); })) {
    throw std::invalid_argument("webhook header: invalid name '" + name + "'");
  }
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    throw std::invalid_argument("webhook header " + name + ": value contains CR, LF or NUL");
  }
}

// Credentials must not cross the network in clear text.
void RefuseCredentialsInClear(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "authorization" || lower == "proxy-authorization" || lower == "cookie") {
      throw std::invalid_argument("webhook header " + name +
                                  " would be sent in clear text over http://; use https:// (or "
                                  "allow_insecure_headers)");
    }
  }
}

enum class Verdict { kDelivered, kRejected, kRetry };

// 2xx delivered; 429, 5xx and no response retried; other statuses refused.
Verdict Judge(int status) {
  if (status >= 200 && status < 300) return Verdict::kDelivered;
  if (status == 0 || status == 429 || status >= 500) return Verdict::kRetry;
  return Verdict::kRejected;
}

std::string Describe(const HttpOutcome& outcome) {
  if (outcome.status == 0) return outcome.error;
  std::string text = "HTTP " + std::to_string(outcome.status);
  if (!outcome.body.empty()) text += ": " + outcome.body.substr(0, kLoggedBodyBytes);
  return text;
}

HttpClientOptions ClientOptions(const WebhookUrl& url, const WebhookOptions& options) {
  return HttpClientOptions{url, options.timeout, options.tls_verify, options.tls_ca_file};
}

}  // namespace

struct WebhookOutput::Impl {
  explicit Impl(WebhookOptions webhook_options);

  void Enqueue(std::span<const store::StoredAlert> alerts);
  WebhookStats Stats() const;
  void Stop();

 private:
  using Batch = std::vector<std::string>;

  void Run();
  std::optional<Batch> NextBatch();
  bool Deliver(const Batch& batch);
  bool PastStopDeadline() const;
  bool Settle(const HttpOutcome& outcome, size_t alerts, int failed_attempts);
  bool WaitBeforeRetry(int failed_attempts);
  milliseconds Backoff(int failed_attempts);
  HttpRequest MakeRequest(const Batch& batch) const;
  HttpOutcome Send(const HttpRequest& request);
  Clock::time_point Deadline() const;
  void CountRetry(const HttpOutcome& outcome, int failed_attempts);
  void LogRejected(const HttpOutcome& outcome, size_t alerts);
  void LogUndelivered(size_t in_flight);

  const WebhookOptions options_;
  const WebhookUrl url_;
  HttpClient client_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // alerts queued, or stop requested
  std::condition_variable finished_;  // the sender thread is done
  std::deque<std::string> queue_;
  size_t queue_bytes_ = 0;  // JSON bytes in queue_
  WebhookStats stats_;
  bool stopping_ = false;
  bool done_ = false;
  Clock::time_point stop_deadline_ = kNoDeadline;

  // Sender thread only.
  std::mt19937_64 random_{std::random_device{}()};
  bool failing_ = false;
  Clock::time_point last_reject_log_{};
  uint64_t unlogged_rejects_ = 0;

  std::thread sender_;  // last: starts after everything above exists
};

WebhookOutput::Impl::Impl(WebhookOptions webhook_options)
    : options_(std::move(webhook_options)),
      url_(ParseWebhookUrl(options_.url)),
      client_(ClientOptions(url_, options_)) {
  for (const auto& [name, value] : options_.headers) ValidateHeader(name, value);
  if (!url_.tls && !options_.allow_insecure_headers) RefuseCredentialsInClear(options_.headers);
  sender_ = std::thread([this] { Run(); });
}

void WebhookOutput::Impl::Enqueue(std::span<const store::StoredAlert> alerts) {
  if (alerts.empty()) return;
  const size_t max_queue = std::max<size_t>(options_.max_queue, 1);
  {
    std::lock_guard lock(mutex_);
    for (const store::StoredAlert& alert : alerts) {
      if (!options_.match.Matches(alert)) {
        ++stats_.unmatched;
        continue;
      }
      if (alert.json.size() > options_.max_queue_bytes) {  // could never be queued
        ++stats_.dropped;
        continue;
      }
      while (!queue_.empty() && (queue_.size() >= max_queue ||
                                 queue_bytes_ + alert.json.size() > options_.max_queue_bytes)) {
        queue_bytes_ -= queue_.front().size();
        queue_.pop_front();
        ++stats_.dropped;
      }
      queue_.push_back(alert.json);
      queue_bytes_ += alert.json.size();
    }
  }
  wake_.notify_one();
}

WebhookStats WebhookOutput::Impl::Stats() const {
  std::lock_guard lock(mutex_);
  WebhookStats stats = stats_;
  stats.queued = queue_.size();
  stats.queued_bytes = queue_bytes_;
  return stats;
}

// Lets the sender work until the queue is empty or the grace period is over;
// then interrupts whatever request is still running.
void WebhookOutput::Impl::Stop() {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  stop_deadline_ = Clock::now() + options_.shutdown_grace;
  wake_.notify_all();
  if (!finished_.wait_until(lock, stop_deadline_, [this] { return done_; })) {
    client_.Interrupt();
  }
  lock.unlock();
  sender_.join();
}

// Transport failures are outcomes, not exceptions; what can still throw
// here (std::bad_alloc) ends the sender with an error line, never the process.
void WebhookOutput::Impl::Run() {
  try {
    while (std::optional<Batch> batch = NextBatch()) {
      if (!Deliver(*batch)) break;
    }
  } catch (const std::exception& error) {
    spdlog::error("webhook {}: sender stopped: {}", url_.Origin(), error.what());
  }
  std::lock_guard lock(mutex_);
  done_ = true;
  finished_.notify_all();
}

// Waits for alerts; nullopt once stopping with nothing queued or past the
// grace deadline.
std::optional<WebhookOutput::Impl::Batch> WebhookOutput::Impl::NextBatch() {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  if (stopping_ && Clock::now() >= stop_deadline_) {
    lock.unlock();
    LogUndelivered(0);
    return std::nullopt;
  }
  const size_t count = std::min(queue_.size(), std::max<size_t>(options_.max_batch, 1));
  Batch batch(std::make_move_iterator(queue_.begin()),
              std::make_move_iterator(queue_.begin() + static_cast<ptrdiff_t>(count)));
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<ptrdiff_t>(count));
  for (const std::string& json : batch) queue_bytes_ -= json.size();
  return batch;
}

// Sends until delivered or refused, retrying with backoff otherwise; false
// when the shutdown deadline passed first (the sender then stops).
bool WebhookOutput::Impl::Deliver(const Batch& batch) {
  const HttpRequest request = MakeRequest(batch);
  for (int failed_attempts = 0;; ++failed_attempts) {
    HttpOutcome outcome = Send(request);
    if (Settle(outcome, batch.size(), failed_attempts)) return true;
    if (PastStopDeadline()) break;
    CountRetry(outcome, failed_attempts);
    if (!WaitBeforeRetry(failed_attempts)) break;
  }
  LogUndelivered(batch.size());
  return false;
}

bool WebhookOutput::Impl::PastStopDeadline() const {
  std::lock_guard lock(mutex_);
  return stopping_ && Clock::now() >= stop_deadline_;
}

HttpOutcome WebhookOutput::Impl::Send(const HttpRequest& request) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.requests;
  }
  try {
    return client_.Post(request, Deadline());
  } catch (const std::exception& error) {  // not expected: the client reports by error codes
    return HttpOutcome{0, {}, std::string("unexpected: ") + error.what()};
  }
}

// Counts and logs a final outcome; false when the batch must be retried.
bool WebhookOutput::Impl::Settle(const HttpOutcome& outcome, size_t alerts, int failed_attempts) {
  Verdict verdict = Judge(outcome.status);
  if (verdict == Verdict::kRetry) return false;
  {
    std::lock_guard lock(mutex_);
    (verdict == Verdict::kDelivered ? stats_.delivered : stats_.rejected) += alerts;
  }
  if (verdict == Verdict::kRejected) LogRejected(outcome, alerts);
  if (failing_) {
    spdlog::info("webhook {}: delivering again after {} failed attempts", url_.Origin(),
                 failed_attempts);
    failing_ = false;
  }
  return true;
}

void WebhookOutput::Impl::CountRetry(const HttpOutcome& outcome, int failed_attempts) {
  {
    std::lock_guard lock(mutex_);
    ++stats_.retries;
  }
  if (!failing_) {
    spdlog::warn("webhook {}: delivery failed ({}); retrying with backoff", url_.Origin(),
                 Describe(outcome));
    failing_ = true;
  }
  spdlog::debug("webhook {}: attempt {} failed: {}", url_.Origin(), failed_attempts + 1,
                Describe(outcome));
}

// Sleeps the backoff; a stop request ends the sleep early (one more try at
// once). False when the shutdown deadline has passed.
bool WebhookOutput::Impl::WaitBeforeRetry(int failed_attempts) {
  const Clock::time_point retry_at = Clock::now() + Backoff(failed_attempts);
  std::unique_lock lock(mutex_);
  const bool was_stopping = stopping_;
  wake_.wait_until(lock, std::min(retry_at, stop_deadline_),
                   [&] { return stopping_ != was_stopping; });
  return !stopping_ || Clock::now() < stop_deadline_;
}

// retry_initial doubled per failed attempt, capped at retry_max, then scaled
// by a random factor in [0.5, 1] so that many gsocd do not retry in step.
milliseconds WebhookOutput::Impl::Backoff(int failed_attempts) {
  const auto cap = std::max(options_.retry_max, options_.retry_initial);
  auto delay = options_.retry_initial;
  for (int i = 0; i < failed_attempts && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return milliseconds(static_cast<int64_t>(static_cast<double>(delay.count()) * jitter(random_)));
}

HttpRequest WebhookOutput::Impl::MakeRequest(const Batch& batch) const {
  HttpRequest request{http::verb::post, url_.target, 11};
  request.set(http::field::host, url_.HostHeader());
  request.set(http::field::user_agent, UserAgent());
  request.set(http::field::content_type, "application/x-ndjson");
  for (const auto& [name, value] : options_.headers) request.set(name, value);
  request.keep_alive(true);
  std::string& body = request.body();
  for (const std::string& json : batch) {
    body += json;
    body.push_back('\n');
  }
  request.prepare_payload();
  return request;
}

Clock::time_point WebhookOutput::Impl::Deadline() const {
  std::lock_guard lock(mutex_);
  return stop_deadline_;
}

// Refusals repeat per batch while the receiver is misconfigured: one line a
// minute, with the count since the last one.
void WebhookOutput::Impl::LogRejected(const HttpOutcome& outcome, size_t alerts) {
  ++unlogged_rejects_;
  const Clock::time_point now = Clock::now();
  if (last_reject_log_ != Clock::time_point{} && now - last_reject_log_ < kRejectLogInterval) {
    return;
  }
  spdlog::warn(
      "webhook {}: batch of {} alerts refused ({}), dropped; {} batch(es) refused since "
      "the last report",
      url_.Origin(), alerts, Describe(outcome), unlogged_rejects_);
  last_reject_log_ = now;
  unlogged_rejects_ = 0;
}

void WebhookOutput::Impl::LogUndelivered(size_t in_flight) {
  size_t queued = Stats().queued;
  spdlog::warn("webhook {}: shutdown grace over, {} alerts not delivered", url_.Origin(),
               queued + in_flight);
}

WebhookOutput::WebhookOutput(WebhookOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

WebhookOutput::~WebhookOutput() { impl_->Stop(); }

void WebhookOutput::OnCommitted(std::span<const store::StoredAlert> alerts) {
  impl_->Enqueue(alerts);
}

WebhookStats WebhookOutput::stats() const { return impl_->Stats(); }

}  // namespace gsoc::output
