// JetStream client: the one place gsoc talks to NATS (libnats).
//
// JetStreamClient connects to the cluster's server list (credentials, nkey,
// TLS from ClusterConfig; reconnects on its own) and makes sure the three
// streams exist with the configured replicas:
//   GSOC_EVENTS  gsoc.events.<agency>  work queue (deleted once a detect node acks)
//   GSOC_ALERTS  gsoc.alerts.<agency>  limits (store nodes each read all)
//   GSOC_HITS    gsoc.hits.<partition> limits (correlate nodes replay from a checkpoint)
// Every stream is bounded in bytes and refuses new messages when full
// (discard new): the publisher sees an error and keeps the batch, nothing
// already stored is dropped to make room.
//
// BatchPublisher: asynchronous publishes, at most max_inflight_batches
// without an ack (Publish blocks, bounded, beyond that). Each batch carries
// a Nats-Msg-Id, so a batch sent again after a lost ack is stored once.
// WaitForAcks returns true only when JetStream has acknowledged every batch
// published so far; it resends those whose ack failed or never came. A
// caller reads more input only after that (the ingest backpressure).
//
// PullConsumer: a durable pull consumer (explicit ack); several processes
// using the same durable name share the messages (work sharing). A message
// is acknowledged only after the handler accepted it, so a consumer that
// dies has its unacknowledged messages redelivered.
//
// Threading: a client, a publisher and a consumer are each used by one
// thread; libnats calls the ack handler on its own thread (the publisher
// locks what the two share).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/cluster/cluster_config.h"
#include "engine/util/thread_annotations.h"

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __natsMsg;

namespace gsoc {

inline constexpr std::string_view kEventsStream = "GSOC_EVENTS";
inline constexpr std::string_view kAlertsStream = "GSOC_ALERTS";
inline constexpr std::string_view kHitsStream = "GSOC_HITS";

// "gsoc.events.<agency>" etc.
std::string EventsSubject(std::string_view agency);
std::string AlertsSubject(std::string_view agency);
std::string HitsSubject(uint32_t partition);

struct StreamLimits {
  int64_t max_bytes = int64_t{8} << 30;  // per stream
  std::chrono::seconds duplicate_window{120};
};

class JetStreamClient {
 public:
  // Connects (waits up to `timeout` for a first server); null with `error` set.
  static std::unique_ptr<JetStreamClient> Connect(const ClusterConfig& config,
                                                  std::chrono::milliseconds timeout,
                                                  std::string* error);
  ~JetStreamClient();
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  // Creates the three streams, or updates them to this config. Retries until
  // `timeout` (a cluster that just started has no JetStream leader yet).
  bool EnsureStreams(const StreamLimits& limits, std::chrono::milliseconds timeout,
                     std::string* error);
  // Messages stored in `stream` (0 with `error` set on failure).
  uint64_t StreamMessages(std::string_view stream, std::string* error);
  // The sequence of the last message `stream` stored (0: none yet); false
  // with `error` on failure.
  bool StreamLastSequence(std::string_view stream, uint64_t* sequence, std::string* error);
  // The payload of message `sequence` of `stream` (decompressed; empty when
  // it cannot be decoded, which the caller's decoder then refuses): 1 found,
  // 0 not there (deleted or beyond the last), -1 with `error` on failure.
  int GetMessage(std::string_view stream, uint64_t sequence, std::string* data, std::string* error);
  // The server this client is connected to now ("nats://127.0.0.1:4222").
  std::string ConnectedUrl() const;

  const ClusterConfig& config() const { return config_; }
  __natsConnection* connection() const { return connection_; }
  __jsCtx* context() const { return js_; }

 private:
  explicit JetStreamClient(const ClusterConfig& config) : config_(config) {}

  ClusterConfig config_;
  __natsConnection* connection_ = nullptr;
  __jsCtx* js_ = nullptr;
};

class BatchPublisher {
 public:
  // Uses `client`'s connection (which must outlive it); its own JetStream
  // context carries the ack handler.
  static std::unique_ptr<BatchPublisher> Create(JetStreamClient& client, std::string* error);
  ~BatchPublisher();
  BatchPublisher(const BatchPublisher&) = delete;
  BatchPublisher& operator=(const BatchPublisher&) = delete;

  // Sends one batch, LZ4-compressed when cluster.compression is lz4 and that
  // pays (payload_compression.h). `msg_id` must be unique for the batch (the
  // dedup key). One thread at a time.
  // Blocks while max_inflight_batches are unacknowledged, up to `timeout`;
  // false with `error` when it could not be sent (the batch is not pending).
  bool Publish(std::string_view subject, std::string_view data, std::string_view msg_id,
               std::chrono::milliseconds timeout, std::string* error);
  // True when every batch published so far is acknowledged; resends the ones
  // whose ack failed or did not come until then. False at `timeout` with the
  // count still unacknowledged in `error`.
  bool WaitForAcks(std::chrono::milliseconds timeout, std::string* error);

  // Bytes of the payloads sent (compressed when they were), each batch once.
  uint64_t sent_bytes() const { return sent_bytes_.load(std::memory_order_relaxed); }
  uint64_t acked() const;       // batches acknowledged (each once)
  uint64_t resent() const;      // batches sent again
  uint64_t duplicates() const;  // acks that JetStream marked duplicate

  // libnats' ack handler thread: `msg` was stored (ok) or refused.
  void OnAck(__natsMsg* msg, bool ok, bool duplicate, const char* error_text) GSOC_EXCLUDES(mutex_);

 private:
  explicit BatchPublisher(JetStreamClient& client) : client_(client) {}
  // Sends again what failed or timed out; what could not be sent stays in failed_.
  void ResendFailed() GSOC_EXCLUDES(mutex_);
  void ResendPending() GSOC_EXCLUDES(mutex_);
  bool AllAcked() const GSOC_EXCLUDES(mutex_);

  JetStreamClient& client_;
  __jsCtx* js_ = nullptr;
  std::string compressed_;  // Publish's thread only
  std::atomic<uint64_t> sent_bytes_{0};
  mutable Mutex mutex_;
  uint64_t published_ GSOC_GUARDED_BY(mutex_) = 0;  // distinct batches
  uint64_t acked_ GSOC_GUARDED_BY(mutex_) = 0;
  uint64_t resent_ GSOC_GUARDED_BY(mutex_) = 0;
  uint64_t duplicates_ GSOC_GUARDED_BY(mutex_) = 0;
  std::vector<__natsMsg*> failed_ GSOC_GUARDED_BY(mutex_);  // negative acks, to resend
  std::string last_refusal_ GSOC_GUARDED_BY(mutex_);        // JetStream's reason, for the log
};

// What a consumer does with a fetched message.
enum class Consumed : uint8_t {
  kAck,     // processed: acknowledged (synchronously), never delivered again
  kRefuse,  // bad input (e.g. undecodable): terminated, never delivered again
  kLater,   // not processed (stopping, next stage full): delivered again after ack_wait
};

// The payload of a stored or delivered message: its data, or its data
// decompressed into `buffer` (header Gsoc-Encoding). False with `error` when
// it cannot be decoded (the message is then bad input).
bool MessagePayload(__natsMsg* msg, std::string& buffer, std::string_view* payload,
                    std::string* error);

struct ConsumedMessage {
  std::string_view subject;
  std::string_view data;
  uint64_t stream_sequence = 0;
  uint64_t deliveries = 1;  // > 1: redelivered (a consumer died or did not ack)
};

class PullConsumer {
 public:
  // Binds to (or creates) the durable consumer `durable` on `stream`,
  // filtered by `subject` (e.g. "gsoc.events.>"). Retries until `timeout`
  // (after a server loss the cluster may still be electing leaders).
  // `max_ack_pending` > 0 bounds the messages delivered and not yet
  // acknowledged (1: strictly in stream order, redeliveries first).
  static std::unique_ptr<PullConsumer> Create(JetStreamClient& client, std::string_view stream,
                                              std::string_view subject, std::string_view durable,
                                              std::chrono::seconds ack_wait,
                                              std::chrono::milliseconds timeout, std::string* error,
                                              int64_t max_ack_pending = 0);
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // Fetches up to `max_messages`, waiting up to `timeout` for the first, and
  // calls `handler` on each (see Consumed). Returns the count fetched; -1
  // with `error` on failure. A timeout with nothing to fetch is 0.
  int Fetch(int max_messages, std::chrono::milliseconds timeout,
            const std::function<Consumed(const ConsumedMessage&)>& handler, std::string* error);
  // The consumer's lag: messages of the stream not yet delivered to it
  // (`pending`) and delivered but not acknowledged (`unacked`); false with
  // `error` when the server cannot be asked.
  bool Lag(uint64_t* pending, uint64_t* unacked, std::string* error);

 private:
  PullConsumer() = default;
  __natsSubscription* subscription_ = nullptr;
  std::string decoded_;  // a compressed message's payload, while its handler runs
};

}  // namespace gsoc
