#include "collectors/listener/connection_limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace gsoc {
namespace {

std::array<uint8_t, 16> Address(uint8_t last) {
  std::array<uint8_t, 16> a{};
  a[10] = a[11] = 0xff;
  a[12] = 10;
  a[15] = last;
  return a;
}

TEST(ConnectionLimitsTest, PerPeerCap) {
  ConnectionLimits limits(100, 2);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnectionsPerPeer);
  EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnectionsPerPeer);
  EXPECT_EQ(limits.TryAcquire(Address(2)), std::nullopt);  // another peer is not affected
  EXPECT_EQ(limits.total(), 3u);
}

TEST(ConnectionLimitsTest, PerAgencyCapAcrossItsAddresses) {
  // One agency's many addresses cannot take every slot (issue 11, finding 7).
  ConnectionLimits limits(100, 10, 3);
  for (uint8_t peer = 1; peer <= 3; ++peer)
    EXPECT_EQ(limits.TryAcquire(Address(peer), 1), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(4), 1), RejectReason::kMaxConnectionsPerAgency);
  EXPECT_EQ(limits.TryAcquire(Address(5), 2), std::nullopt);  // another agency
  EXPECT_EQ(limits.agency_total(1), 3u);
  EXPECT_EQ(limits.agency_total(2), 1u);
  limits.Release(Address(2), 1);
  EXPECT_EQ(limits.TryAcquire(Address(4), 1), std::nullopt);
  EXPECT_EQ(limits.total(), 4u);
}

TEST(ConnectionLimitsTest, SlotMovesToTheAgencyACertificateNamed) {
  ConnectionLimits limits(100, 10, 2);
  const uint16_t kNone = UINT16_MAX;  // the address is in no agency
  ASSERT_EQ(limits.TryAcquire(Address(1), kNone), std::nullopt);
  ASSERT_EQ(limits.TryAcquire(Address(2), kNone), std::nullopt);
  ASSERT_EQ(limits.TryAcquire(Address(3), 5), std::nullopt);
  EXPECT_EQ(limits.MoveAgency(kNone, 5), std::nullopt);
  EXPECT_EQ(limits.MoveAgency(kNone, 5), RejectReason::kMaxConnectionsPerAgency);  // 5 is full
  EXPECT_EQ(limits.agency_total(5), 2u);
  EXPECT_EQ(limits.agency_total(kNone), 1u);
  limits.Release(Address(1), 5);  // released under the agency it moved to
  EXPECT_EQ(limits.agency_total(5), 1u);
  EXPECT_EQ(limits.total(), 2u);
}

TEST(ConnectionLimitsTest, TotalCap) {
  ConnectionLimits limits(3, 10);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(2)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(3)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(4)), RejectReason::kMaxConnections);
  EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnections);
  EXPECT_EQ(limits.total(), 3u);
}

TEST(ConnectionLimitsTest, TotalCapIsReportedWhenBothAreReached) {
  ConnectionLimits limits(2, 2);
  ASSERT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  ASSERT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnections);
}

TEST(ConnectionLimitsTest, ReleaseFreesSlots) {
  ConnectionLimits limits(2, 1);
  ASSERT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  ASSERT_EQ(limits.TryAcquire(Address(2)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(3)), RejectReason::kMaxConnections);
  limits.Release(Address(1));
  EXPECT_EQ(limits.total(), 1u);
  EXPECT_EQ(limits.TryAcquire(Address(2)), RejectReason::kMaxConnectionsPerPeer);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);  // the peer's slot is back
  limits.Release(Address(1));
  limits.Release(Address(2));
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.TryAcquire(Address(3)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(4)), std::nullopt);
}

TEST(ConnectionLimitsTest, RejectedAttemptsTakeNoSlot) {
  ConnectionLimits limits(5, 1);
  ASSERT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnectionsPerPeer);
  }
  EXPECT_EQ(limits.total(), 1u);
  limits.Release(Address(1));
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
}

TEST(ConnectionLimitsTest, ReleaseOfAnUnknownPeerChangesNothing) {
  ConnectionLimits limits(2, 2);
  ASSERT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  limits.Release(Address(9));
  EXPECT_EQ(limits.total(), 1u);
  limits.Release(Address(1));
  limits.Release(Address(1));  // released twice: no underflow
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(1)), std::nullopt);
  EXPECT_EQ(limits.TryAcquire(Address(1)), RejectReason::kMaxConnections);
}

TEST(ConnectionLimitsTest, ConcurrentAcquireIsExact) {
  // 4 threads, one peer each, race for slots: exactly max_total succeed and
  // no peer gets more than max_per_peer.
  constexpr size_t kMaxTotal = 100;
  constexpr size_t kMaxPerPeer = 30;
  ConnectionLimits limits(kMaxTotal, kMaxPerPeer);
  std::vector<size_t> acquired(4, 0), per_peer_rejects(4, 0), total_rejects(4, 0);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < 50; ++i) {
        auto result = limits.TryAcquire(Address(static_cast<uint8_t>(t)));
        if (!result) {
          ++acquired[t];
        } else if (*result == RejectReason::kMaxConnectionsPerPeer) {
          ++per_peer_rejects[t];
        } else {
          EXPECT_EQ(*result, RejectReason::kMaxConnections);
          ++total_rejects[t];
        }
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  size_t sum = 0;
  for (int t = 0; t < 4; ++t) {
    EXPECT_LE(acquired[t], kMaxPerPeer);
    EXPECT_EQ(acquired[t] + per_peer_rejects[t] + total_rejects[t], 50u);
    sum += acquired[t];
  }
  EXPECT_EQ(sum, kMaxTotal);
  EXPECT_EQ(limits.total(), kMaxTotal);
}

TEST(ConnectionLimitsTest, ConcurrentAcquireReleaseStaysConsistent) {
  constexpr size_t kMaxTotal = 40;
  constexpr size_t kMaxPerPeer = 15;
  ConnectionLimits limits(kMaxTotal, kMaxPerPeer);
  std::atomic<bool> stop{false};
  std::atomic<size_t> max_seen{0};
  std::thread watcher([&] {
    while (!stop) {
      const size_t now = limits.total();
      size_t max = max_seen.load();
      while (now > max && !max_seen.compare_exchange_weak(max, now)) {
      }
    }
  });
  std::vector<std::thread> threads;
  std::vector<size_t> successes(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::array<uint8_t, 16>> held;
      for (int round = 0; round < 2000; ++round) {
        // Threads 0,1 share peer 1; threads 2,3 use peers 2..5.
        const auto peer = Address(static_cast<uint8_t>(t < 2 ? 1 : 2 + (round + t) % 4));
        if (!limits.TryAcquire(peer)) {
          held.push_back(peer);
          ++successes[t];
        }
        if (held.size() > 8 || round % 5 == 4) {
          for (const auto& address : held) limits.Release(address);
          held.clear();
        }
      }
      for (const auto& address : held) limits.Release(address);
    });
  }
  for (auto& thread : threads) thread.join();
  stop = true;
  watcher.join();
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_LE(max_seen.load(), kMaxTotal);
  for (int t = 0; t < 4; ++t) EXPECT_GT(successes[t], 0u);
  // Every per-peer count is back to zero: each peer can take its full quota.
  for (uint8_t peer = 1; peer <= 5; ++peer) {
    for (size_t i = 0; i < kMaxPerPeer; ++i)
      ASSERT_EQ(limits.TryAcquire(Address(peer)), std::nullopt);
    EXPECT_EQ(limits.TryAcquire(Address(peer)), RejectReason::kMaxConnectionsPerPeer);
    for (size_t i = 0; i < kMaxPerPeer; ++i) limits.Release(Address(peer));
  }
  EXPECT_EQ(limits.total(), 0u);
}

}  // namespace
}  // namespace gsoc
