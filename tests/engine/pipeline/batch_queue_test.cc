#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "engine/pipeline/pipeline.h"

namespace gsoc {
namespace {

BatchPtr MakeBatch(BatchPool& pool, size_t events) {
  BatchPtr batch = pool.Acquire();
  for (size_t i = 0; i < events; ++i) batch->AddEvent();
  return batch;
}

TEST(BatchPoolTest, ReleaseClearsAndAcquireReuses) {
  BatchPool pool;
  BatchPtr batch = pool.Acquire();
  ASSERT_NE(batch, nullptr);
  EXPECT_TRUE(batch->empty());
  Event& e = batch->AddEvent();
  e.message = batch->arena().Copy("hello");
  batch->AddField(e, "k", "v");
  EventBatch* raw = batch.get();
  pool.Release(std::move(batch));
  BatchPtr again = pool.Acquire();
  EXPECT_EQ(again.get(), raw);
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(again->bytes(), 0u);
  // The pool is empty again: a fresh batch.
  BatchPtr fresh = pool.Acquire();
  EXPECT_NE(fresh.get(), raw);
  pool.Release(nullptr);  // harmless
}

TEST(BatchPoolTest, KeepsAtMostMaxFree) {
  BatchPool pool(2);
  BatchPtr a = pool.Acquire(), b = pool.Acquire(), c = pool.Acquire();
  std::set<EventBatch*> kept = {a.get(), b.get(), c.get()};
  pool.Release(std::move(a));
  pool.Release(std::move(b));
  pool.Release(std::move(c));  // dropped
  BatchPtr x = pool.Acquire(), y = pool.Acquire();
  EXPECT_TRUE(kept.count(x.get()));
  EXPECT_TRUE(kept.count(y.get()));
  EXPECT_NE(x.get(), y.get());
}

TEST(BatchQueueTest, PushAndPopInOrderCountingEvents) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  EXPECT_EQ(queue.capacity(), 100u);
  EventBatch* first = nullptr;
  for (size_t n : {10, 20, 30}) {
    BatchPtr batch = MakeBatch(pool, n);
    if (!first) first = batch.get();
    ASSERT_EQ(queue.TryPush(batch), PushResult::kPushed);
    EXPECT_EQ(batch, nullptr);  // taken
  }
  EXPECT_EQ(queue.events(), 60u);
  BatchPtr popped = queue.Pop();
  EXPECT_EQ(popped.get(), first);
  EXPECT_EQ(queue.events(), 50u);
  EXPECT_EQ(queue.Pop()->size(), 20u);
  EXPECT_EQ(queue.Pop()->size(), 30u);
  EXPECT_EQ(queue.events(), 0u);
}

TEST(BatchQueueTest, TryPushFullWhenOverMaxEvents) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  BatchPtr a = MakeBatch(pool, 60);
  BatchPtr b = MakeBatch(pool, 40);
  ASSERT_EQ(queue.TryPush(a), PushResult::kPushed);
  ASSERT_EQ(queue.TryPush(b), PushResult::kPushed);  // exactly at the bound
  BatchPtr c = MakeBatch(pool, 1);
  EXPECT_EQ(queue.TryPush(c), PushResult::kFull);
  ASSERT_NE(c, nullptr);  // not taken
  EXPECT_EQ(c->size(), 1u);
  EXPECT_EQ(queue.events(), 100u);
  queue.Pop();  // 40 left
  BatchPtr d = MakeBatch(pool, 61);
  EXPECT_EQ(queue.TryPush(d), PushResult::kFull);
  BatchPtr e = MakeBatch(pool, 60);
  EXPECT_EQ(queue.TryPush(e), PushResult::kPushed);
  EXPECT_EQ(queue.full_count(), 2u);  // gsoc_queue_full_total: each refused push
}

TEST(BatchQueueTest, EmptyQueueAcceptsAnOversizedBatch) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  BatchPtr big = MakeBatch(pool, 500);
  ASSERT_EQ(queue.TryPush(big), PushResult::kPushed);
  EXPECT_EQ(queue.events(), 500u);
  BatchPtr small = MakeBatch(pool, 1);
  EXPECT_EQ(queue.TryPush(small), PushResult::kFull);
  EXPECT_EQ(queue.Pop()->size(), 500u);
  EXPECT_EQ(queue.TryPush(small), PushResult::kPushed);
  // An empty batch is fine too.
  BatchPtr empty = MakeBatch(pool, 0);
  EXPECT_EQ(queue.TryPush(empty), PushResult::kPushed);
}

TEST(BatchQueueTest, WaitForSpaceFiresOnceWhenAPopReachesHalf) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  for (int i = 0; i < 4; ++i) {
    BatchPtr batch = MakeBatch(pool, 25);
    ASSERT_EQ(queue.TryPush(batch), PushResult::kPushed);
  }
  BatchPtr extra = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(extra), PushResult::kFull);
  int calls = 0;
  queue.WaitForSpace(1, [&] { ++calls; });
  EXPECT_EQ(calls, 0);
  queue.Pop();  // 75 left: above half
  EXPECT_EQ(calls, 0);
  queue.Pop();  // 50 left: half
  EXPECT_EQ(calls, 1);
  queue.Pop();          // 25 left
  queue.Pop();          // empty
  EXPECT_EQ(calls, 1);  // exactly once
  queue.Close();
  EXPECT_EQ(calls, 1);  // not again on close
}

TEST(BatchQueueTest, WaitForSpaceFiresWhenAPopEmptiesTheQueue) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  BatchPtr big = MakeBatch(pool, 400);
  ASSERT_EQ(queue.TryPush(big), PushResult::kPushed);
  BatchPtr next = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(next), PushResult::kFull);
  int calls = 0;
  queue.WaitForSpace(1, [&] { ++calls; });
  EXPECT_EQ(calls, 0);
  queue.Pop();
  EXPECT_EQ(calls, 1);
}

TEST(BatchQueueTest, WaitForSpaceFiresEveryWaiterOnce) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  BatchPtr full = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(full), PushResult::kPushed);
  std::vector<int> calls(3, 0);
  for (int i = 0; i < 3; ++i) queue.WaitForSpace(1, [&calls, i] { ++calls[i]; });
  queue.Pop();
  EXPECT_EQ(calls, std::vector<int>({1, 1, 1}));
  BatchPtr again = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(again), PushResult::kPushed);
  queue.Pop();
  EXPECT_EQ(calls, std::vector<int>({1, 1, 1}));
}

TEST(BatchQueueTest, WaitForSpaceFiresImmediatelyIfThereIsRoom) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  int calls = 0;
  queue.WaitForSpace(1, [&] { ++calls; });  // empty queue
  EXPECT_EQ(calls, 1);
  BatchPtr half = MakeBatch(pool, 50);
  ASSERT_EQ(queue.TryPush(half), PushResult::kPushed);
  queue.WaitForSpace(1, [&] { ++calls; });  // at half: room
  EXPECT_EQ(calls, 2);
  BatchPtr more = MakeBatch(pool, 1);
  ASSERT_EQ(queue.TryPush(more), PushResult::kPushed);
  queue.WaitForSpace(1, [&] { ++calls; });  // 51: above half, waits
  EXPECT_EQ(calls, 2);
  queue.Pop();
  EXPECT_EQ(calls, 3);
}

TEST(BatchQueueTest, WaitForSpaceCallbackRunsOutsideTheLock) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  BatchPtr full = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(full), PushResult::kPushed);
  size_t seen = 99;
  PushResult pushed = PushResult::kClosed;
  queue.WaitForSpace(1, [&] {
    seen = queue.events();  // would deadlock if called under the queue mutex
    BatchPtr retry = MakeBatch(pool, 3);
    pushed = queue.TryPush(retry);
  });
  queue.Pop();
  EXPECT_EQ(seen, 0u);
  EXPECT_EQ(pushed, PushResult::kPushed);
  EXPECT_EQ(queue.events(), 3u);
}

TEST(BatchQueueTest, CloseWakesWaitersAndRefusesPushes) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  BatchPtr full = MakeBatch(pool, 10);
  ASSERT_EQ(queue.TryPush(full), PushResult::kPushed);
  int calls = 0;
  queue.WaitForSpace(1, [&] { ++calls; });
  EXPECT_EQ(calls, 0);
  queue.Close();
  EXPECT_EQ(calls, 1);
  queue.WaitForSpace(1, [&] { ++calls; });  // closed: resume at once
  EXPECT_EQ(calls, 2);
  BatchPtr late = MakeBatch(pool, 1);
  EXPECT_EQ(queue.TryPush(late), PushResult::kClosed);
  EXPECT_NE(late, nullptr);
  // What was queued before Close is still delivered, then null.
  BatchPtr drained = queue.Pop();
  ASSERT_NE(drained, nullptr);
  EXPECT_EQ(drained->size(), 10u);
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_EQ(queue.Pop(), nullptr);
  EXPECT_EQ(calls, 2);
}

TEST(BatchQueueTest, CloseWakesABlockedPop) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  auto popped = std::async(std::launch::async, [&] { return queue.Pop(); });
  EXPECT_EQ(popped.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  queue.Close();
  ASSERT_EQ(popped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(popped.get(), nullptr);
}

TEST(BatchQueueTest, PopBlocksUntilAPush) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  auto popped = std::async(std::launch::async, [&] { return queue.Pop(); });
  EXPECT_EQ(popped.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  BatchPtr batch = MakeBatch(pool, 4);
  EventBatch* raw = batch.get();
  ASSERT_EQ(queue.TryPush(batch), PushResult::kPushed);
  ASSERT_EQ(popped.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(popped.get().get(), raw);
  queue.Close();
}

TEST(BatchQueueTest, CloseWakesAllBlockedPops) {
  BatchPool pool;
  BatchQueue queue(10, pool);
  std::atomic<int> nulls{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!queue.Pop()) ++nulls;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  queue.Close();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(nulls, 4);
}

// A waiter whose batch is larger than half the queue is resumed only when it
// fits, so its next TryPush succeeds instead of spinning.
TEST(BatchQueueTest, WaitForSpaceWaitsUntilALargeBatchFits) {
  BatchPool pool;
  BatchQueue queue(100, pool);
  auto make = [&](size_t n) {
    BatchPtr batch = pool.Acquire();
    for (size_t i = 0; i < n; ++i) batch->AddEvent();
    return batch;
  };
  for (int i = 0; i < 4; ++i) {
    BatchPtr batch = make(20);
    ASSERT_EQ(queue.TryPush(batch), PushResult::kPushed);
  }
  BatchPtr large = make(70);
  ASSERT_EQ(queue.TryPush(large), PushResult::kFull);
  int calls = 0;
  queue.WaitForSpace(large->size(), [&] { ++calls; });
  queue.Pop();  // 60 queued: above half
  EXPECT_EQ(calls, 0);
  queue.Pop();  // 40 queued: at most half, but 40 + 70 > 100
  EXPECT_EQ(calls, 0);
  queue.Pop();  // 20 queued: 20 + 70 fits
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(queue.TryPush(large), PushResult::kPushed);
}

}  // namespace
}  // namespace gsoc
