// Edits racing final saves: threads edit their profiles in a tight loop while the engine closes,
// while other starters take the profiles over (handoff), or while another thread ends the
// session. The oracle is what the API returned, judged from outside the engine: every Edit that
// returned OK must be in what is stored (or in what the next session loads), unless the end was
// reported with unsaved_changes. Each thread keeps editing until its edits are refused, so every
// final save races at least one edit. Nothing sleeps: threads hand each other progress through
// latches and futures.
//
// Regression test for issue 10, part 1: 8 threads editing 200 profiles while Engine::Close()
// ran lost the last acknowledged edit of 140-157 of them.
#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <future>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "holdfast/holdfast.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

constexpr int kThreads = 8;
constexpr int kProfilesPerThread = 25;

uint64_t Counter(const std::string& text) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

EngineOptions MemoryOptions(std::shared_ptr<MemoryVolume> volume) {
  EngineOptions options;
  options.memory_volume = std::move(volume);
  options.conflict_buckets = 1024;
  options.worker_threads = 3;
  return options;
}

StoreOptions<std::string> CounterStore() {
  StoreOptions<std::string> options;
  options.template_value = "0";
  return options;
}

// Increments the counter; returns the new value, or nullopt (with the status) when refused.
std::optional<uint64_t> Increment(Handle& handle, Status* status) {
  uint64_t now = 0;
  *status = handle.Edit([&](std::string& d) {
    now = Counter(d) + 1;
    d = std::to_string(now);
  });
  if (!status->ok()) return std::nullopt;
  return now;
}

TEST(EditRace, EveryEditAcknowledgedBeforeCloseIsStored) {
  auto volume = MemoryVolume::Create();
  auto opened = Engine::Open("/edit-race", MemoryOptions(volume));
  ASSERT_OK(opened);
  std::unique_ptr<Engine> engine = std::move(*opened);
  auto players = engine->OpenStore<BytesCodec>("Players", CounterStore());
  ASSERT_OK(players);

  struct Owned {
    std::string key;
    std::optional<Handle> handle;
    uint64_t acked = 0;  // the value of the last Edit that returned OK
    std::optional<SessionEnd> end;
    std::mutex mu;  // guards `end` (set on an engine worker)
  };
  std::vector<std::vector<std::unique_ptr<Owned>>> owned(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kProfilesPerThread; ++i) {
      auto o = std::make_unique<Owned>();
      o->key = "t" + std::to_string(t) + "-p" + std::to_string(i);
      auto started = players->StartSession(o->key);
      ASSERT_OK(started);
      o->handle = *started;
      Owned* raw = o.get();
      o->handle->OnSessionEnd([raw](const SessionEnd& e) {
        std::lock_guard lock(raw->mu);
        raw->end = e;
      });
      owned[t].push_back(std::move(o));
    }
  }

  std::latch warmed_up(kThreads);  // every thread finished one full pass of edits
  std::atomic<int> refused_other_than_closed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      bool signalled = false;
      for (int live = kProfilesPerThread; live > 0;) {
        live = 0;
        for (auto& o : owned[t]) {
          Status s;
          if (auto value = Increment(*o->handle, &s)) {
            o->acked = *value;
            ++live;
          } else if (s.code() != StatusCode::kClosed) {
            if (refused_other_than_closed.fetch_add(1) == 0) {
              ADD_FAILURE() << o->key << ": Edit refused with " << s.ToString();
            }
          }
        }
        if (!signalled) {
          warmed_up.count_down();
          signalled = true;
        }
      }
    });
  }
  warmed_up.wait();
  ASSERT_OK(engine->Close());  // the threads are still editing
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(refused_other_than_closed.load(), 0);

  auto reopened = Engine::Open("/edit-race", MemoryOptions(volume));
  ASSERT_OK(reopened);
  auto again = (*reopened)->OpenStore<BytesCodec>("Players", CounterStore());
  ASSERT_OK(again);
  int lost = 0;
  for (auto& per_thread : owned) {
    for (auto& o : per_thread) {
      ASSERT_GE(o->acked, 1u) << o->key;  // the race ran: at least one pass before Close
      auto stored = again->Get(o->key);
      ASSERT_OK(stored);
      std::lock_guard lock(o->mu);
      ASSERT_TRUE(o->end.has_value()) << o->key;
      EXPECT_EQ(o->end->reason, EndReason::kShutdown) << o->key;
      if (Counter(stored->data) != o->acked && !o->end->unsaved_changes) ++lost;
      EXPECT_EQ(Counter(stored->data), o->acked)
          << o->key << ": stored " << stored->data << ", last acknowledged edit " << o->acked;
    }
  }
  EXPECT_EQ(lost, 0) << "profiles whose acknowledged edit was silently dropped";
  ASSERT_OK((*reopened)->Close());
}

// One editor per profile edits until refused while a new StartSession takes the profile over
// (handoff) or another thread calls EndSession. The next session must load, and the store must
// hold, the last value whose Edit returned OK.
TEST(EditRace, EveryEditAcknowledgedBeforeAHandoffOrEndSessionIsStored) {
  auto volume = MemoryVolume::Create();
  auto opened = Engine::Open("/edit-race-handoff", MemoryOptions(volume));
  ASSERT_OK(opened);
  std::unique_ptr<Engine> engine = std::move(*opened);
  auto players = engine->OpenStore<BytesCodec>("Players", CounterStore());
  ASSERT_OK(players);

  constexpr int kKeys = 4;
  constexpr int kRounds = 40;
  std::vector<std::thread> keys;
  std::atomic<int> failures{0};
  for (int k = 0; k < kKeys; ++k) {
    keys.emplace_back([&, k] {
      const std::string key = "hand-" + std::to_string(k);
      auto first = players->StartSession(key);
      if (!first.ok()) {
        ADD_FAILURE() << first.status().ToString();
        return;
      }
      Handle holder = *first;
      for (int round = 0; round < kRounds; ++round) {
        const bool end_session = round % 2 == 1;
        std::promise<void> edited_once;
        uint64_t acked = 0;
        Status refused;
        std::thread editor([&] {
          bool told = false;
          for (;;) {
            auto value = Increment(holder, &refused);
            if (!value) break;
            acked = *value;
            if (!told) {
              edited_once.set_value();
              told = true;
            }
          }
          if (!told) edited_once.set_value();
        });
        edited_once.get_future().wait();
        if (end_session) {
          Status ended = holder.EndSession();
          if (!ended.ok()) ADD_FAILURE() << key << ": EndSession " << ended.ToString();
        }
        auto started = players->StartSession(key);  // a handoff unless EndSession came first
        editor.join();
        if (!started.ok()) {
          ADD_FAILURE() << key << ": StartSession " << started.status().ToString();
          failures.fetch_add(1);
          return;
        }
        if (refused.code() != StatusCode::kLockLost) {
          ADD_FAILURE() << key << ": the editor was refused with " << refused.ToString();
        }
        const uint64_t loaded = Counter(started->Data());
        if (acked == 0 || loaded != acked) {
          failures.fetch_add(1);
          ADD_FAILURE() << key << " round " << round << ": next session loaded " << loaded
                        << ", last acknowledged edit " << acked;
        }
        holder = *started;
      }
      if (Status s = holder.EndSession(); !s.ok()) ADD_FAILURE() << s.ToString();
    });
  }
  for (auto& t : keys) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(engine->Stats().handoffs, static_cast<uint64_t>(kKeys * kRounds / 2));
  ASSERT_OK(engine->Close());
}

}  // namespace
}  // namespace holdfast::test
