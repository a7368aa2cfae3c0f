// Private to the store: the ids of one or more posting prefixes (by_rule,
// by_agency, by_level; store_postings.h), merged in id order, within
// [lo, hi). Ids whose record is gone (an aggregate version replaced, or a
// deletion retention has not cleaned out of its posting yet) are returned
// like the others: the query's record fetch skips them.
#pragma once

#include <rocksdb/db.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "engine/store/store_format.h"
#include "engine/store/store_postings.h"

namespace gsoc::store::detail {

class IndexIdSource {
 public:
  IndexIdSource(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snapshot,
                const std::vector<std::string>& prefixes, uint64_t lo, uint64_t hi,
                bool newest_first)
      : newest_first_(newest_first), lo_(lo), hi_(hi) {
    for (const std::string& prefix : prefixes) {
      auto cursor = std::make_unique<Cursor>();
      cursor->prefix = prefix;
      // A posting keyed below lo may hold ids >= lo: the lower bound is the
      // prefix; one keyed at hi or above holds none below hi.
      cursor->lower = prefix;
      cursor->upper = prefix + format::IdKey(hi);
      cursor->lower_slice = cursor->lower;
      cursor->upper_slice = cursor->upper;
      rocksdb::ReadOptions read;
      read.snapshot = snapshot;
      read.prefix_same_as_start = true;
      read.iterate_lower_bound = &cursor->lower_slice;
      read.iterate_upper_bound = &cursor->upper_slice;
      cursor->it.reset(db->NewIterator(read, cf));
      if (newest_first) {
        // The posting that may hold hi - 1, then back.
        cursor->it->SeekForPrev(prefix + format::IdKey(hi - 1));
      } else {
        // The posting that may hold lo (keyed at or below it), else the first.
        cursor->it->SeekForPrev(prefix + format::IdKey(lo));
        if (!cursor->it->Valid()) cursor->it->Seek(cursor->lower);
      }
      Load(*cursor);
      Settle(*cursor);
      cursors_.push_back(std::move(cursor));
    }
    PickCurrent();
  }

  bool Valid() const { return current_ != nullptr; }
  uint64_t id() const { return current_id_; }
  void Next() {
    Cursor& cursor = *current_;
    if (newest_first_) {
      if (cursor.pos == 0) {
        Step(cursor);
      } else {
        --cursor.pos;
      }
    } else {
      ++cursor.pos;
    }
    Settle(cursor);
    PickCurrent();
  }

 private:
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    std::string prefix, lower, upper;
    rocksdb::Slice lower_slice, upper_slice;
    std::vector<uint64_t> ids;  // of the posting under `it`, ascending
    size_t pos = 0;             // into ids; ids.size(): none (step)
    bool done = false;
  };

  // Decodes the posting under the iterator into ids (empty when the iterator
  // is exhausted, sets done; a malformed posting is skipped, logged) and
  // places pos at the first id to return in the scan direction.
  void Load(Cursor& cursor) const {
    cursor.ids.clear();
    cursor.pos = 0;
    if (!cursor.it->Valid()) {
      if (!cursor.it->status().ok()) {
        spdlog::warn("alert store: index scan: {}", cursor.it->status().ToString());
      }
      cursor.done = true;
      return;
    }
    const rocksdb::Slice key = cursor.it->key();
    if (key.size() != cursor.prefix.size() + 8 || !key.starts_with(cursor.prefix)) {
      cursor.done = true;
      return;
    }
    const uint64_t first = format::IdFromIndexKey(std::string_view(key.data(), key.size()));
    if (!format::DecodePosting(first, cursor.it->value().ToStringView(), cursor.ids)) {
      spdlog::warn("alert store: malformed posting at id {}", first);
    }
    if (newest_first_) {
      // The last id below hi; ids.size() when there is none (lower_bound 0).
      const auto end = std::lower_bound(cursor.ids.begin(), cursor.ids.end(), hi_);
      cursor.pos = end == cursor.ids.begin() ? cursor.ids.size()
                                             : static_cast<size_t>(end - cursor.ids.begin()) - 1;
    } else {
      cursor.pos = static_cast<size_t>(std::lower_bound(cursor.ids.begin(), cursor.ids.end(), lo_) -
                                       cursor.ids.begin());
    }
  }

  // To the next posting in the scan direction.
  void Step(Cursor& cursor) const {
    if (newest_first_) {
      cursor.it->Prev();
    } else {
      cursor.it->Next();
    }
    Load(cursor);
  }

  // Until pos is an id in [lo, hi) or the cursor is done.
  void Settle(Cursor& cursor) const {
    while (!cursor.done) {
      if (cursor.pos >= cursor.ids.size()) {
        Step(cursor);
        continue;
      }
      const uint64_t id = cursor.ids[cursor.pos];
      if (id < lo_ || id >= hi_) {
        // Out of range in the scan direction: every later id is too.
        cursor.done = true;
        return;
      }
      return;
    }
  }

  void PickCurrent() {
    current_ = nullptr;
    for (const auto& cursor : cursors_) {
      if (cursor->done) continue;
      const uint64_t id = cursor->ids[cursor->pos];
      if (!current_ || (newest_first_ ? id > current_id_ : id < current_id_)) {
        current_ = cursor.get();
        current_id_ = id;
      }
    }
  }

  const bool newest_first_;
  const uint64_t lo_, hi_;
  std::vector<std::unique_ptr<Cursor>> cursors_;
  Cursor* current_ = nullptr;
  uint64_t current_id_ = 0;
};

}  // namespace gsoc::store::detail
