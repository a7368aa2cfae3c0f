// The identity of an aggregate, one definition for the single node's
// Aggregator and the cluster's PartitionAggregator (engine/cluster), so a
// hit finds the same aggregate whichever runs it and stored aggregates
// resume: the key's bytes, their hash (the JSON's aggregate.key) and the
// memory estimate both bound their open aggregates by. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/alert/alert.h"

namespace gsoc {

// The key's bytes: rule id '\0' agency '\0', then name '=' value '\0' for
// each group-by field present (in group-by order). Appended to `out`.
void AppendAggregateKey(std::string& out, std::string_view rule_id, std::string_view agency);
void AppendAggregateKeyValue(std::string& out, std::string_view name, std::string_view value);
// The same bytes from an aggregate alert (its group holds the non-empty
// group-by values in group-by order), for aggregates resumed from a store
// or a checkpoint.
std::string AggregateKeyOf(const Alert& alert);

// Stable across runs and builds (keys are stored and resumed); never 0.
// Callers compare the key bytes too: a hash alone would let a sender who
// finds a collision join another agency's or rule's aggregate.
uint64_t AggregateKeyHash(std::string_view key_bytes);

// What an aggregate's alert holds in memory (an estimate, for max_size).
size_t AggregateAlertBytes(const Alert& alert);

}  // namespace gsoc
