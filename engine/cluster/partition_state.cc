#include "engine/cluster/partition_state.h"

#include "engine/util/wire_format.h"

namespace gsoc {
namespace {

constexpr uint32_t kMagic = 0x43505347;  // "GSPC" little-endian
constexpr uint8_t kVersion = 1;

}  // namespace

void PartitionState::Checkpoint(std::string& out) const {
  correlator.Checkpoint(scratch_);
  out.clear();
  wire::PutFixed(out, kMagic, 4);
  out += static_cast<char>(kVersion);
  wire::PutVarint(out, scratch_.size());
  out += scratch_;
  aggregator.Checkpoint(scratch_);
  out += scratch_;
}

bool PartitionState::Restore(const HitRouting& routing, std::string_view blob, std::string* error) {
  wire::WireReader in(blob);
  if (in.Fixed(4) != kMagic || !in.ok()) {  // a correlator's checkpoint alone
    return correlator.Restore(routing, blob, error);
  }
  if (in.U8() != kVersion && in.ok()) in.Fail("unknown partition checkpoint version");
  const std::string_view correlator_bytes = in.Bytes(in.Varint());
  if (!in.ok()) {
    if (error != nullptr) *error = "partition checkpoint: " + std::string(in.error().reason);
    return false;
  }
  if (!correlator.Restore(routing, correlator_bytes, error)) return false;
  return aggregator.Restore(blob.substr(in.offset()), error);
}

}  // namespace gsoc
