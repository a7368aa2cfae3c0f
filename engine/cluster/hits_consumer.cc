#include "engine/cluster/hits_consumer.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "engine/cluster/nats_status.h"

namespace gsoc {

using cluster_internal::NatsStatusText;

std::unique_ptr<HitsConsumer> HitsConsumer::Create(JetStreamClient& client, std::string_view stream,
                                                   std::string_view subject,
                                                   uint64_t start_sequence,
                                                   int max_pending_messages, int max_pending_bytes,
                                                   std::string* error) {
  const std::string stream_name(stream), filter(subject);
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_name.c_str();
  options.Ordered = true;
  if (start_sequence > 1) {
    options.Config.DeliverPolicy = js_DeliverByStartSequence;
    options.Config.OptStartSeq = start_sequence;
  } else {
    options.Config.DeliverPolicy = js_DeliverAll;
  }
  std::unique_ptr<HitsConsumer> out(new HitsConsumer());
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&out->subscription_, client.context(), filter.c_str(), nullptr,
                                  &options, &code);
  if (s != NATS_OK) {
    out->subscription_ = nullptr;
    *error = NatsStatusText(
        s, "ordered consumer of " + filter + " from sequence " + std::to_string(start_sequence));
    return nullptr;
  }
  s = natsSubscription_SetPendingLimits(out->subscription_, max_pending_messages,
                                        max_pending_bytes);
  if (s != NATS_OK) {
    *error = NatsStatusText(s, "pending limits of " + filter);
    return nullptr;
  }
  return out;
}

HitsConsumer::~HitsConsumer() {
  natsMsg_Destroy(current_);
  if (subscription_ != nullptr) {
    natsSubscription_Unsubscribe(subscription_);  // the ephemeral consumer goes with it
    natsSubscription_Destroy(subscription_);
  }
}

int HitsConsumer::Waiting() const {
  int messages = 0, bytes = 0;
  if (natsSubscription_GetPending(subscription_, &messages, &bytes) != NATS_OK) return 0;
  return messages;
}

bool HitsConsumer::Next(std::chrono::milliseconds timeout, ConsumedMessage* out,
                        uint64_t* server_pending, std::string* error) {
  natsMsg_Destroy(current_);
  current_ = nullptr;
  const natsStatus s =
      natsSubscription_NextMsg(&current_, subscription_, std::max<int64_t>(1, timeout.count()));
  if (s == NATS_TIMEOUT) return false;
  if (s != NATS_OK) {
    // A slow consumer (messages dropped) is reported once; the ordered
    // consumer then starts again at the first missing sequence.
    *error = NatsStatusText(s, "next hits message");
    current_ = nullptr;
    return false;
  }
  out->subject = natsMsg_GetSubject(current_);
  std::string decode_error;
  if (!MessagePayload(current_, decoded_, &out->data, &decode_error)) {
    // Empty: the correlator's decoder refuses it as bad input.
    spdlog::warn("cluster: a message on {} cannot be decoded: {}", out->subject, decode_error);
    out->data = {};
  }
  out->stream_sequence = 0;
  out->deliveries = 1;
  *server_pending = 0;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, current_) == NATS_OK) {
    out->stream_sequence = meta->Sequence.Stream;
    *server_pending = meta->NumPending;
  }
  jsMsgMetaData_Destroy(meta);
  return true;
}

}  // namespace gsoc
