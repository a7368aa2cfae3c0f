#include "engine/cluster/jetstream_kv.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include "engine/cluster/nats_status.h"

namespace gsoc {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kRetryPause{200};

using cluster_internal::NatsStatusText;

// JetStream refuses a write whose expected last sequence does not match with
// error 10071, "wrong last sequence: <n>"; libnats' kvStore API returns it
// as NATS_ERR with that text (it does not pass the code out).
bool IsWrongLastSequence(natsStatus status) {
  if (status != NATS_ERR) return false;
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  return detail != nullptr &&
         std::string_view(detail).find("wrong last sequence") != std::string_view::npos;
}

KvStatus Classify(natsStatus status, std::string_view what, std::string* error) {
  if (status == NATS_OK) return KvStatus::kOk;
  if (status == NATS_NOT_FOUND) return KvStatus::kNotFound;
  const bool conflict = IsWrongLastSequence(status);
  if (error != nullptr) *error = NatsStatusText(status, what);
  return conflict ? KvStatus::kConflict : KvStatus::kUnavailable;
}

void FillEntry(kvEntry* entry, KvEntry* out) {
  out->key = kvEntry_Key(entry);
  const void* value = kvEntry_Value(entry);
  const int length = kvEntry_ValueLen(entry);
  out->value.assign(static_cast<const char*>(value), value == nullptr ? 0 : length);
  out->revision = kvEntry_Revision(entry);
  out->created_unix_ns = kvEntry_Created(entry);
  const kvOperation op = kvEntry_Operation(entry);
  out->deleted = op == kvOp_Delete || op == kvOp_Purge;
}

int64_t RemainingMs(Clock::time_point deadline) {
  return std::max<int64_t>(
      0, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count());
}

}  // namespace

std::chrono::milliseconds KvRequestTimeout(std::chrono::milliseconds ttl) {
  using std::chrono::milliseconds;
  return std::clamp<milliseconds>(ttl / 8, milliseconds(100), milliseconds(2000));
}

std::string KvIncarnation() {
  std::random_device random;
  const uint64_t value = (uint64_t{random()} << 32) ^ random();
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::unique_ptr<KvBucket> KvBucket::Open(JetStreamClient& client, const KvBucketSpec& spec,
                                         milliseconds timeout, std::string* error) {
  std::unique_ptr<KvBucket> bucket(new KvBucket(spec));
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = spec.request_timeout.count();
  natsStatus s = natsConnection_JetStream(&bucket->js_, client.connection(), &options);
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsStatusText(s, "JetStream context for " + spec.name);
    return nullptr;
  }
  const int64_t ttl_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.ttl).count();
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    s = js_KeyValue(&bucket->kv_, bucket->js_, spec.name.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig config;
      kvConfig_Init(&config);
      config.Bucket = spec.name.c_str();
      config.History = 1;
      config.TTL = ttl_ns;
      config.MaxBytes = spec.max_bytes;
      config.MaxValueSize = spec.max_value_bytes;
      config.StorageType = js_FileStorage;
      config.Replicas = spec.replicas;
      s = js_CreateKeyValue(&bucket->kv_, bucket->js_, &config);
    }
    if (s == NATS_OK || RemainingMs(deadline) == 0) break;
    std::this_thread::sleep_for(kRetryPause);  // no JetStream leader yet
  }
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsStatusText(s, "key-value bucket " + spec.name);
    return nullptr;
  }
  kvStatus* status = nullptr;
  s = kvStore_Status(&status, bucket->kv_);
  const int64_t bucket_ttl = s == NATS_OK ? kvStatus_TTL(status) : 0;
  kvStatus_Destroy(status);
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsStatusText(s, "status of key-value bucket " + spec.name);
    return nullptr;
  }
  if (bucket_ttl != ttl_ns) {
    if (error != nullptr) {
      *error = "key-value bucket " + spec.name + " exists with a TTL of " +
               std::to_string(bucket_ttl / 1'000'000) + " ms, this node's is " +
               std::to_string(ttl_ns / 1'000'000) +
               " ms: every node of the cluster must use the same cluster.lease_ttl_seconds";
    }
    return nullptr;
  }
  return bucket;
}

std::unique_ptr<KvBucket> KvBucket::Bind(JetStreamClient& client, std::string_view name,
                                         milliseconds request_timeout, KvStatus* status,
                                         std::string* error) {
  KvBucketSpec spec;
  spec.name = std::string(name);
  spec.request_timeout = request_timeout;
  std::unique_ptr<KvBucket> bucket(new KvBucket(spec));
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = request_timeout.count();
  natsStatus s = natsConnection_JetStream(&bucket->js_, client.connection(), &options);
  if (s == NATS_OK) s = js_KeyValue(&bucket->kv_, bucket->js_, spec.name.c_str());
  *status = Classify(s, "key-value bucket " + spec.name, error);
  if (*status != KvStatus::kOk) return nullptr;
  return bucket;
}

KvBucket::~KvBucket() {
  kvStore_Destroy(kv_);
  jsCtx_Destroy(js_);
}

KvStatus KvBucket::Get(std::string_view key, KvEntry* out, std::string* error) {
  const std::string name(key);
  kvEntry* entry = nullptr;
  const natsStatus s = kvStore_Get(&entry, kv_, name.c_str());
  if (s == NATS_OK) FillEntry(entry, out);
  kvEntry_Destroy(entry);
  return Classify(s, "get " + name, error);
}

KvStatus KvBucket::Keys(std::string_view filter, size_t max, std::vector<std::string>* keys,
                        bool* truncated, std::string* error) {
  const std::string stream = "KV_" + spec_.name;
  const std::string prefix = "$KV." + spec_.name + ".";
  const std::string subjects = prefix + std::string(filter);
  jsOptions options;
  jsOptions_Init(&options);
  options.Stream.Info.SubjectsFilter = subjects.c_str();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &options, &code);
  if (s == NATS_OK && info->State.Subjects != nullptr) {
    const jsStreamStateSubjects& list = *info->State.Subjects;
    for (int i = 0; i < list.Count; ++i) {
      if (keys->size() == max) {
        *truncated = true;
        break;
      }
      const std::string_view subject = list.List[i].Subject;
      if (subject.starts_with(prefix)) keys->emplace_back(subject.substr(prefix.size()));
    }
  }
  jsStreamInfo_Destroy(info);
  return Classify(s, "keys " + subjects, error);
}

KvStatus KvBucket::LeaderRevision(std::string_view key, uint64_t* revision, std::string* error) {
  const std::string stream = "KV_" + spec_.name;
  const std::string subject = "$KV." + spec_.name + "." + std::string(key);
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetLastMsg(&msg, js_, stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_OK) *revision = natsMsg_GetSequence(msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK && code == JSNoMessageFoundErr) return KvStatus::kNotFound;
  return Classify(s, "last revision of " + std::string(key), error);
}

KvStatus KvBucket::Create(std::string_view key, std::string_view value, uint64_t* revision,
                          std::string* error) {
  const std::string name(key);
  const natsStatus s =
      kvStore_Create(revision, kv_, name.c_str(), value.data(), static_cast<int>(value.size()));
  const KvStatus status = Classify(s, "create " + name, error);
  if (status != KvStatus::kUnavailable) return status;
  // kvStore_Create reads the key after a refusal (a delete marker may be
  // replaced), which can hide the server's reason: a live value is a conflict.
  KvEntry existing;
  std::string ignored;
  return Get(key, &existing, &ignored) == KvStatus::kOk ? KvStatus::kConflict
                                                        : KvStatus::kUnavailable;
}

KvStatus KvBucket::Update(std::string_view key, std::string_view value, uint64_t last,
                          uint64_t* revision, std::string* error) {
  const std::string name(key);
  const natsStatus s = kvStore_Update(revision, kv_, name.c_str(), value.data(),
                                      static_cast<int>(value.size()), last);
  return Classify(s, "update " + name, error);
}

KvStatus KvBucket::Put(std::string_view key, std::string_view value, uint64_t* revision,
                       std::string* error) {
  const std::string name(key);
  const natsStatus s =
      kvStore_Put(revision, kv_, name.c_str(), value.data(), static_cast<int>(value.size()));
  return Classify(s, "put " + name, error);
}

KvStatus KvBucket::Purge(std::string_view key, std::string* error) {
  const std::string name(key);
  kvPurgeOptions options;
  kvPurgeOptions_Init(&options);
  options.Timeout = spec_.request_timeout.count();
  const natsStatus s = kvStore_Purge(kv_, name.c_str(), &options);
  return Classify(s, "purge " + name, error);
}

// ---------------------------------------------------------------------------

std::unique_ptr<KvWatch> KvWatch::Start(KvBucket& bucket, std::string_view filter,
                                        std::string* error) {
  std::unique_ptr<KvWatch> watch(new KvWatch());
  const std::string keys(filter);
  kvWatchOptions options;
  kvWatchOptions_Init(&options);
  options.Timeout = bucket.spec().request_timeout.count();
  const natsStatus s = kvStore_Watch(&watch->watcher_, bucket.store(), keys.c_str(), &options);
  if (s != NATS_OK) {
    if (error != nullptr) *error = NatsStatusText(s, "watching " + keys);
    return nullptr;
  }
  return watch;
}

KvWatch::~KvWatch() {
  if (watcher_ == nullptr) return;
  kvWatcher_Stop(watcher_);
  kvWatcher_Destroy(watcher_);
}

KvStatus KvWatch::Next(milliseconds timeout, KvEntry* out, bool* initial_done) {
  *initial_done = false;
  kvEntry* entry = nullptr;
  const natsStatus s = kvWatcher_Next(&entry, watcher_, std::max<int64_t>(1, timeout.count()));
  if (s == NATS_TIMEOUT) return KvStatus::kNotFound;
  if (s != NATS_OK) return KvStatus::kUnavailable;
  if (entry == nullptr) {
    *initial_done = true;
    return KvStatus::kOk;
  }
  FillEntry(entry, out);
  kvEntry_Destroy(entry);
  return KvStatus::kOk;
}

}  // namespace gsoc
