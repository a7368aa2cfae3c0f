// Fuzzes what `gsocctl cluster status` reads from the cluster's key-value
// buckets (untrusted: any client allowed to write GSOC_NODES or
// GSOC_LEASES wrote it): a node record (ParseNodeRecord) and a partition
// lease value (ParseLeaseValue). What is accepted keeps every bound, and a
// record the encoder writes again reads back the same.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/cluster/cluster_status.h"
#include "engine/cluster/node_registry.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gsoc::fuzz::Check;
  const std::string_view value(reinterpret_cast<const char*>(data), size);

  std::string node, incarnation;
  bool released = false;
  if (gsoc::ParseLeaseValue(value, &node, &incarnation, &released)) {
    Check(released ? node.empty() && incarnation.empty()
                   : !node.empty() && node.size() <= 64 && !incarnation.empty() &&
                         incarnation.size() <= 64);
  }

  gsoc::NodeRecord record;
  const char* reason = nullptr;
  if (!gsoc::ParseNodeRecord(value, &record, &reason)) {
    Check(reason != nullptr && *reason != '\0');
    return 0;
  }
  Check(size <= gsoc::kMaxNodeRecordBytes);
  Check(!record.node.empty() && record.node.size() <= gsoc::kMaxNodeNameBytes);
  Check(record.roles.size() <= gsoc::kMaxNodeRoles);
  for (const std::string* field :
       {&record.version, &record.incarnation, &record.api, &record.metrics}) {
    Check(field->size() <= gsoc::kMaxNodeFieldBytes);
  }
  // The encoder cuts a field at a line break ('\r' included), so compare
  // from its own output on: encode, parse, encode again gives the same bytes.
  const std::string once = gsoc::EncodeNodeRecord(record);
  Check(once.size() <= gsoc::kMaxNodeRecordBytes);
  gsoc::NodeRecord again;
  if (gsoc::ParseNodeRecord(once, &again, &reason)) {
    Check(gsoc::EncodeNodeRecord(again) == once);
  } else {
    Check(record.node.front() == '\r');  // cut to nothing: no node name
  }
  return 0;
}
