#include "engine/cluster/jetstream.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "engine/cluster/nats_status.h"
#include "engine/cluster/payload_compression.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kMsgIdHeader[] = "Nats-Msg-Id";
constexpr size_t kHeaderAllowance = 4096;  // headers on top of max_batch_bytes
constexpr milliseconds kRetryPause{200};
constexpr int64_t kStallWaitMs = 50;  // Publish re-checks its deadline this often
constexpr milliseconds kAckRound{2000};
constexpr milliseconds kStallPause{50};  // an ack not back by then: send again (dedup)

using cluster_internal::NatsStatusText;

bool Fail(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
  return false;
}

int64_t RemainingMs(Clock::time_point deadline) {
  return std::max<int64_t>(
      0, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
}

natsStatus ApplyAuthAndTls(natsOptions* options, const ClusterConfig& config) {
  natsStatus s = NATS_OK;
  if (!config.credentials.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(options, config.credentials.c_str(), nullptr);
  }
  if (s == NATS_OK && !config.nkey.empty()) {
    s = natsOptions_SetNKeyFromSeed(options, config.nkey.c_str(), config.nkey_seed.c_str());
  }
  const bool tls_url = std::any_of(config.servers.begin(), config.servers.end(),
                                   [](const std::string& url) { return url.starts_with("tls:"); });
  if (s == NATS_OK && (config.tls.enabled() || tls_url)) s = natsOptions_SetSecure(options, true);
  if (s == NATS_OK && !config.tls.ca.empty()) {
    s = natsOptions_LoadCATrustedCertificates(options, config.tls.ca.c_str());
  }
  if (s == NATS_OK && !config.tls.certificate.empty()) {
    s = natsOptions_LoadCertificatesChain(options, config.tls.certificate.c_str(),
                                          config.tls.private_key.c_str());
  }
  return s;
}

natsStatus MakeOptions(const ClusterConfig& config, natsOptions** options) {
  natsStatus s = natsOptions_Create(options);
  std::vector<const char*> urls;
  for (const std::string& url : config.servers) urls.push_back(url.c_str());
  if (s == NATS_OK)
    s = natsOptions_SetServers(*options, urls.data(), static_cast<int>(urls.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(*options, 2000);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(*options, -1);  // forever: a cluster returns
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(*options, 250);
  if (s == NATS_OK) s = ApplyAuthAndTls(*options, config);
  return s;
}

struct StreamSpec {
  std::string_view name;
  const char* subjects;
  jsRetentionPolicy retention;
};

constexpr StreamSpec kStreams[] = {
    {kEventsStream, "gsoc.events.>", js_WorkQueuePolicy},
    {kAlertsStream, "gsoc.alerts.>", js_LimitsPolicy},
    {kHitsStream, "gsoc.hits.>", js_LimitsPolicy},
};

natsStatus AddOrUpdateStream(jsCtx* js, const StreamSpec& spec, const ClusterConfig& config,
                             const StreamLimits& limits) {
  const std::string name(spec.name);
  const char* subjects[] = {spec.subjects};
  jsStreamConfig stream;
  jsStreamConfig_Init(&stream);
  stream.Name = name.c_str();
  stream.Subjects = subjects;
  stream.SubjectsLen = 1;
  stream.Retention = spec.retention;
  stream.Storage = js_FileStorage;
  stream.Replicas = config.replicas;
  stream.MaxBytes = limits.max_bytes;
  stream.Discard = js_DiscardNew;  // full: refuse new, never drop what is stored
  // The batch plus its headers (Nats-Msg-Id); a larger limit than the
  // batch alone, or full batches would be refused forever.
  stream.MaxMsgSize = static_cast<int32_t>(config.max_batch_bytes + kHeaderAllowance);
  stream.Duplicates =
      std::chrono::duration_cast<std::chrono::nanoseconds>(limits.duplicate_window).count();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js, &stream, nullptr, &code);
  if (s != NATS_OK && code == JSStreamNameExistErr) {
    s = js_UpdateStream(&info, js, &stream, nullptr, &code);
  }
  jsStreamInfo_Destroy(info);
  return s;
}

}  // namespace

std::string EventsSubject(std::string_view agency) { return "gsoc.events." + std::string(agency); }
std::string AlertsSubject(std::string_view agency) { return "gsoc.alerts." + std::string(agency); }
std::string HitsSubject(uint32_t partition) { return "gsoc.hits." + std::to_string(partition); }

// ---------------------------------------------------------------------------

std::unique_ptr<JetStreamClient> JetStreamClient::Connect(const ClusterConfig& config,
                                                          milliseconds timeout,
                                                          std::string* error) {
  std::unique_ptr<JetStreamClient> client(new JetStreamClient(config));
  natsOptions* options = nullptr;
  natsStatus s = MakeOptions(config, &options);
  if (s != NATS_OK) {
    natsOptions_Destroy(options);
    Fail(error, NatsStatusText(s, "cluster options"));
    return nullptr;
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  do {
    s = natsConnection_Connect(&client->connection_, options);
    if (s == NATS_OK || RemainingMs(deadline) == 0) break;
    std::this_thread::sleep_for(kRetryPause);
  } while (true);
  natsOptions_Destroy(options);
  if (s == NATS_OK) s = natsConnection_JetStream(&client->js_, client->connection_, nullptr);
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "connecting to the cluster"));
    return nullptr;
  }
  return client;
}

JetStreamClient::~JetStreamClient() {
  jsCtx_Destroy(js_);
  natsConnection_Destroy(connection_);  // closes it
}

bool JetStreamClient::EnsureStreams(const StreamLimits& limits, milliseconds timeout,
                                    std::string* error) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (const StreamSpec& spec : kStreams) {
    natsStatus s;
    while ((s = AddOrUpdateStream(js_, spec, config_, limits)) != NATS_OK) {
      if (RemainingMs(deadline) == 0) {
        return Fail(error, NatsStatusText(s, "creating stream " + std::string(spec.name)));
      }
      std::this_thread::sleep_for(kRetryPause);  // no JetStream leader yet
    }
  }
  return true;
}

uint64_t JetStreamClient::StreamMessages(std::string_view stream, std::string* error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string name(stream);
  const natsStatus s = js_GetStreamInfo(&info, js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "stream info of " + name));
    return 0;
  }
  const uint64_t messages = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return messages;
}

bool JetStreamClient::StreamLastSequence(std::string_view stream, uint64_t* sequence,
                                         std::string* error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string name(stream);
  const natsStatus s = js_GetStreamInfo(&info, js_, name.c_str(), nullptr, &code);
  if (s != NATS_OK) return Fail(error, NatsStatusText(s, "stream info of " + name));
  *sequence = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return true;
}

bool MessagePayload(natsMsg* msg, std::string& buffer, std::string_view* payload,
                    std::string* error) {
  const char* encoding = nullptr;
  if (natsMsgHeader_Get(msg, kEncodingHeader, &encoding) != NATS_OK) encoding = nullptr;
  const std::string_view data(natsMsg_GetData(msg),
                              static_cast<size_t>(natsMsg_GetDataLength(msg)));
  return DecodePayload(encoding != nullptr ? std::string_view(encoding) : std::string_view(), data,
                       buffer, payload, error);
}

int JetStreamClient::GetMessage(std::string_view stream, uint64_t sequence, std::string* data,
                                std::string* error) {
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string name(stream);
  const natsStatus s = js_GetMsg(&msg, js_, name.c_str(), sequence, nullptr, &code);
  if (s == NATS_NOT_FOUND || code == JSNoMessageFoundErr) {
    natsMsg_Destroy(msg);
    return 0;
  }
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "message " + std::to_string(sequence) + " of " + name));
    return -1;
  }
  std::string buffer;
  std::string_view payload;
  std::string decode_error;
  if (!MessagePayload(msg, buffer, &payload, &decode_error)) {
    // Empty: the caller's decoder refuses it, as a consumer would.
    spdlog::warn("cluster: message {} of {} cannot be decoded: {}", sequence, name, decode_error);
    payload = {};
  }
  data->assign(payload);
  natsMsg_Destroy(msg);
  return 1;
}

std::string JetStreamClient::ConnectedUrl() const {
  char url[256] = {};
  if (natsConnection_GetConnectedUrl(connection_, url, sizeof(url)) != NATS_OK) return {};
  return url;
}

// ---------------------------------------------------------------------------

namespace {

void AckHandler(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* ack_error, void* closure) {
  const bool ok = ack != nullptr && ack_error == nullptr;
  const char* text = ack_error != nullptr && ack_error->ErrText != nullptr
                         ? ack_error->ErrText
                         : (ack_error != nullptr ? natsStatus_GetText(ack_error->Err) : "");
  static_cast<BatchPublisher*>(closure)->OnAck(msg, ok, ok && ack->Duplicate, text);
}

}  // namespace

std::unique_ptr<BatchPublisher> BatchPublisher::Create(JetStreamClient& client,
                                                       std::string* error) {
  std::unique_ptr<BatchPublisher> publisher(new BatchPublisher(client));
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = static_cast<int64_t>(client.config().max_inflight_batches);
  options.PublishAsync.AckHandler = AckHandler;
  options.PublishAsync.AckHandlerClosure = publisher.get();
  options.PublishAsync.StallWait = kStallWaitMs;
  const natsStatus s = natsConnection_JetStream(&publisher->js_, client.connection(), &options);
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "publisher context"));
    return nullptr;
  }
  return publisher;
}

BatchPublisher::~BatchPublisher() {
  // Unacknowledged batches are dropped here: the caller has not been told
  // they were stored, so it still holds them (or never acknowledged them).
  // libnats 3.4 crashes asking for the pending list of a context that never
  // published (its pending map does not exist yet).
  bool published = false;
  {
    MutexLock lock(mutex_);
    published = published_ != 0;
  }
  natsMsgList pending{};
  if (published && js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
    natsMsgList_Destroy(&pending);
  }
  jsCtx_Destroy(js_);
  MutexLock lock(mutex_);
  for (natsMsg* msg : failed_) natsMsg_Destroy(msg);
}

void BatchPublisher::OnAck(natsMsg* msg, bool ok, bool duplicate, const char* error_text) {
  MutexLock lock(mutex_);
  if (!ok) {
    failed_.push_back(msg);  // kept (ours to destroy) to send again
    last_refusal_ = error_text;
    return;
  }
  ++acked_;
  duplicates_ += duplicate ? 1 : 0;
  natsMsg_Destroy(msg);
}

bool BatchPublisher::Publish(std::string_view subject, std::string_view data,
                             std::string_view msg_id, milliseconds timeout, std::string* error) {
  const std::string subject_text(subject);
  const std::string id(msg_id);
  const bool compressed = client_.config().compress && CompressPayload(data, compressed_);
  if (compressed) data = compressed_;
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject_text.c_str(), nullptr, data.data(),
                                static_cast<int>(data.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kMsgIdHeader, id.c_str());
  if (s == NATS_OK && compressed) {
    s = natsMsgHeader_Set(msg, kEncodingHeader, std::string(kLz4Encoding).c_str());
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  while (s == NATS_OK || s == NATS_TIMEOUT) {
    s = js_PublishMsgAsync(js_, &msg, nullptr);                  // clears msg when it takes it
    if (s != NATS_TIMEOUT || RemainingMs(deadline) == 0) break;  // TIMEOUT: in-flight full
    ResendFailed();  // a refused batch holds an in-flight slot until sent again
  }
  natsMsg_Destroy(msg);
  if (s != NATS_OK) return Fail(error, NatsStatusText(s, "publishing to " + subject_text));
  sent_bytes_.fetch_add(data.size(), std::memory_order_relaxed);
  MutexLock lock(mutex_);
  ++published_;
  return true;
}

void BatchPublisher::ResendFailed() {
  std::vector<natsMsg*> failed;
  {
    MutexLock lock(mutex_);
    failed.swap(failed_);
  }
  std::vector<natsMsg*> kept;
  for (natsMsg* msg : failed) {
    if (js_PublishMsgAsync(js_, &msg, nullptr) != NATS_OK) {
      kept.push_back(msg);
      continue;
    }
    MutexLock lock(mutex_);
    ++resent_;
  }
  MutexLock lock(mutex_);
  failed_.insert(failed_.end(), kept.begin(), kept.end());
}

void BatchPublisher::ResendPending() {
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, js_) != NATS_OK) return;  // none pending
  std::vector<natsMsg*> kept;
  for (int i = 0; i < pending.Count; ++i) {
    if (js_PublishMsgAsync(js_, &pending.Msgs[i], nullptr) != NATS_OK) {
      kept.push_back(pending.Msgs[i]);  // send on the next round
      pending.Msgs[i] = nullptr;
      continue;
    }
    MutexLock lock(mutex_);
    ++resent_;
  }
  natsMsgList_Destroy(&pending);
  MutexLock lock(mutex_);
  failed_.insert(failed_.end(), kept.begin(), kept.end());
}

bool BatchPublisher::AllAcked() const {
  MutexLock lock(mutex_);
  return failed_.empty() && acked_ == published_;
}

bool BatchPublisher::WaitForAcks(milliseconds timeout, std::string* error) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    ResendFailed();
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait =
        std::max<int64_t>(1, std::min<int64_t>(RemainingMs(deadline), kAckRound.count()));
    const natsStatus s = js_PublishAsyncComplete(js_, &options);
    if (s == NATS_OK && AllAcked()) return true;
    if (RemainingMs(deadline) == 0) break;
    if (s == NATS_TIMEOUT) {
      ResendPending();  // lost with a server, or its ack was
    } else {
      std::this_thread::sleep_for(kStallPause);  // refused (no leader yet): not in a spin
    }
  }
  MutexLock lock(mutex_);
  return Fail(error, std::to_string(published_ - acked_) + " of " + std::to_string(published_) +
                         " batches not acknowledged in time" +
                         (last_refusal_.empty() ? "" : " (last refusal: " + last_refusal_ + ")"));
}

uint64_t BatchPublisher::acked() const {
  MutexLock lock(mutex_);
  return acked_;
}
uint64_t BatchPublisher::resent() const {
  MutexLock lock(mutex_);
  return resent_;
}
uint64_t BatchPublisher::duplicates() const {
  MutexLock lock(mutex_);
  return duplicates_;
}

// ---------------------------------------------------------------------------

std::unique_ptr<PullConsumer> PullConsumer::Create(JetStreamClient& client, std::string_view stream,
                                                   std::string_view subject,
                                                   std::string_view durable,
                                                   std::chrono::seconds ack_wait,
                                                   milliseconds timeout, std::string* error,
                                                   int64_t max_ack_pending) {
  const std::string stream_name(stream), filter(subject), name(durable);
  jsConsumerConfig consumer;
  jsConsumerConfig_Init(&consumer);
  consumer.Durable = name.c_str();
  consumer.AckPolicy = js_AckExplicit;
  consumer.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(ack_wait).count();
  consumer.FilterSubject = filter.c_str();
  if (max_ack_pending > 0) consumer.MaxAckPending = max_ack_pending;
  // Created here, not by the subscription: destroying the subscription then
  // never deletes the durable consumer (and its position) with it.
  const Clock::time_point deadline = Clock::now() + timeout;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s;
  while (true) {
    jsConsumerInfo* info = nullptr;
    s = js_AddConsumer(&info, client.context(), stream_name.c_str(), &consumer, nullptr, &code);
    jsConsumerInfo_Destroy(info);
    if (s == NATS_OK || RemainingMs(deadline) == 0) break;
    std::this_thread::sleep_for(kRetryPause);
  }
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "consumer " + name + " on " + stream_name));
    return nullptr;
  }
  std::unique_ptr<PullConsumer> out(new PullConsumer());
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_name.c_str();
  options.Consumer = name.c_str();
  s = js_PullSubscribe(&out->subscription_, client.context(), filter.c_str(), name.c_str(), nullptr,
                       &options, &code);
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "subscribing to " + name));
    return nullptr;
  }
  return out;
}

PullConsumer::~PullConsumer() { natsSubscription_Destroy(subscription_); }

bool PullConsumer::Lag(uint64_t* pending, uint64_t* unacked, std::string* error) {
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_GetConsumerInfo(&info, subscription_, nullptr, &code);
  if (s != NATS_OK) return Fail(error, NatsStatusText(s, "consumer info"));
  *pending = info->NumPending;
  *unacked = static_cast<uint64_t>(info->NumAckPending);
  jsConsumerInfo_Destroy(info);
  return true;
}

int PullConsumer::Fetch(int max_messages, milliseconds timeout,
                        const std::function<Consumed(const ConsumedMessage&)>& handler,
                        std::string* error) {
  natsMsgList list{};
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, subscription_, max_messages, timeout.count(), &code);
  if (s == NATS_TIMEOUT) return 0;
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "fetch"));
    return -1;
  }
  const int fetched = list.Count;
  for (int i = 0; i < list.Count && s == NATS_OK; ++i) {
    natsMsg* msg = list.Msgs[i];
    ConsumedMessage consumed;
    consumed.subject = natsMsg_GetSubject(msg);
    std::string decode_error;
    if (!MessagePayload(msg, decoded_, &consumed.data, &decode_error)) {
      // Empty: the handler's decoder refuses it as bad input.
      spdlog::warn("cluster: a message on {} cannot be decoded: {}", consumed.subject,
                   decode_error);
      consumed.data = {};
    }
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      consumed.stream_sequence = meta->Sequence.Stream;
      consumed.deliveries = meta->NumDelivered;
    }
    jsMsgMetaData_Destroy(meta);
    switch (handler(consumed)) {
      case Consumed::kAck:
        s = natsMsg_AckSync(msg, nullptr, &code);
        break;
      case Consumed::kRefuse:
        s = natsMsg_Term(msg, nullptr);
        break;
      case Consumed::kLater:
        break;
    }
  }
  natsMsgList_Destroy(&list);
  if (s != NATS_OK) {
    Fail(error, NatsStatusText(s, "acknowledging"));
    return -1;
  }
  return fetched;
}

}  // namespace gsoc
