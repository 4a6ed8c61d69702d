// Power loss: a FaultFileSystem (tests/fault_fs.h) keeps track of what was synced and, at the
// simulated crash, freezes the disk image with every unsynced append dropped; the dead engine is
// torn down and the database reopened on that image. It must then open, pass RocksDB's checksum
// verification, and hold
//  - with sync_writes=true: every acknowledged commit (zero acknowledged saves lost);
//  - with sync_writes=false: a prefix of the commit order (a machine crash may lose the most
//    recent commits, but never a commit while keeping a later one).
// The power fails at a random file-system call — inside a commit, a flush, a compaction or
// Engine::Open — and every lock the dead engine left is taken over at once by the next one.
//
// Seeded: a fixed seed by default (printed); HOLDFAST_SEED=<n> runs, or replays, another one.
// The rounds count what they did (cuts that landed inside the workload, commits acknowledged
// before the cut, locks taken over) and fail below a minimum, so that a harness that stopped
// committing or cutting cannot pass by checking nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fault_fs.h"
#include "holdfast/holdfast.h"
#include "raw_database.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

using namespace std::chrono_literals;
using Players = Store<BytesCodec>;
using Handle = Profile<BytesCodec>;

constexpr char kPath[] = "/power";
constexpr char kStore[] = "Players";
constexpr char kTemplate[] = "template";

constexpr uint64_t kDefaultSeed = 20260101;

uint64_t Seed() {
  if (const char* env = std::getenv("HOLDFAST_SEED"); env && *env) {
    return std::strtoull(env, nullptr, 10);
  }
  return kDefaultSeed;
}

// What a profile looks like on disk: its payload (nullopt: no data record) and whether its lock
// is held.
struct Stored {
  std::optional<std::string> data;
  bool locked = false;
  friend bool operator==(const Stored&, const Stored&) = default;
};
using StoredState = std::map<std::string, Stored>;

// One commit, in commit order: the payload it wrote (nullopt: none) and the lock after it.
struct Commit {
  std::string key;
  std::optional<std::string> data;
  bool locked = false;
  bool acknowledged = false;
};

// A round takes about a second; two minutes mean it hung.
constexpr std::chrono::seconds kRoundDeadline{120};

std::string Describe(const std::optional<std::string>& data) {
  return data ? "'" + data->substr(0, 24) + "'" : "<none>";
}

class PowerLossTest : public ::testing::Test {
 protected:
  EngineOptions Options(bool sync) {
    EngineOptions o;
    o.memory_volume = volume_;
    o.sync_writes = sync;
    o.conflict_buckets = 1024;
    o.worker_threads = 2;
    o.write_buffer_bytes = 64 << 10;  // the smallest: flushes and compactions come quickly
    o.on_orphan_takeover = [this](const OrphanTakeover&) { ++takeovers_; };
    return o;
  }
  StoreOptions<std::string> PlayerOptions() {
    StoreOptions<std::string> o;
    o.template_value = kTemplate;
    o.autosave_period = 1h;  // commits happen only where the test makes them
    o.handoff_timeout = 1s;
    return o;
  }

  // Cuts the power (freezes the crash image) at the `n`th write or sync counted from now, or at
  // the first write of a table file (a flush or compaction output) after it when `in_table_file`.
  void ArmPowerCut(uint64_t n, bool in_table_file) {
    auto calls = std::make_shared<std::atomic<uint64_t>>(0);
    FaultFileSystem* fs = &volume_->fs();
    fs->SetObserver([fs, calls, n, in_table_file](const FileOp& op) {
      if (op.kind == FileOpKind::kRead) return;
      uint64_t call = calls->fetch_add(1) + 1;
      bool table = std::string_view(op.file).ends_with(".sst") && op.name == "append";
      if (call >= n && (!in_table_file || table) && !fs->crashed()) fs->CrashNow();
    });
  }

  // The crash: the disk image freezes now (unless a cut already froze it), the dead engine is
  // torn down (whatever it writes from now on is lost with it), and the frozen image comes back.
  void CrashAndRecover() {
    volume_->fs().CrashNow();
    handles_.clear();
    if (engine_) (void)engine_->Close();
    engine_.reset();
    volume_->fs().SetObserver(nullptr);
    rocksdb::IOStatus restored = volume_->fs().RestoreCrashImage();
    ASSERT_TRUE(restored.ok()) << restored.ToString();
  }

  // Reads every profile of `keys` as stored, after checking RocksDB's checksums.
  StoredState ReadStored(const std::vector<std::string>& keys) {
    StoredState state;
    // The power went during the very first open, before RocksDB created the database.
    if (!volume_->env()->FileExists(std::string(kPath) + "/CURRENT").ok()) return state;
    auto raw = RawDatabase::Open(kPath, volume_->env());
    EXPECT_OK(raw);
    if (!raw.ok()) return state;
    EXPECT_OK((*raw)->VerifyChecksums());
    for (const auto& key : keys) {
      auto data = (*raw)->Data(kStore, key);
      auto meta = (*raw)->Meta(kStore, key);
      EXPECT_OK(data) << key;
      EXPECT_OK(meta) << key;
      if (!data.ok() || !meta.ok()) continue;
      Stored s;
      if (*data) s.data = (*data)->payload;
      s.locked = *meta && (*meta)->lock.has_value();
      if (s.data || s.locked) state[key] = s;
    }
    return state;
  }

  // The next engine takes over every lock the dead one left, at once, and loads what is stored;
  // then it ends the sessions cleanly. Returns the state after that (all locks free).
  StoredState TakeOverAndRelease(const StoredState& stored, bool sync) {
    auto engine = Engine::Open(kPath, Options(sync));
    EXPECT_OK(engine);
    if (!engine.ok()) return stored;
    takeovers_ = 0;
    auto players = (*engine)->OpenStore<BytesCodec>(kStore, PlayerOptions());
    EXPECT_OK(players);
    StoredState after;
    size_t locked = 0;
    for (const auto& [key, s] : stored) {
      if (!s.data) continue;
      locked += s.locked ? 1 : 0;
      SessionOptions no_wait;
      no_wait.timeout = 0ms;  // a takeover must not wait
      auto profile = players->StartSession(key, no_wait);
      EXPECT_OK(profile) << key;
      if (!profile.ok()) continue;
      EXPECT_EQ(profile->Data(), *s.data) << key;
      EXPECT_OK(profile->EndSession()) << key;
      after[key] = Stored{s.data, false};
    }
    EXPECT_EQ(takeovers_.load(), locked);
    EXPECT_EQ((*engine)->Stats().orphans_taken_over, locked);
    takeovers_total_ += takeovers_.load();
    EXPECT_OK((*engine)->Close());
    return after;
  }

  std::shared_ptr<FaultVolume> volume_ = FaultVolume::InMemory();
  std::unique_ptr<Engine> engine_;
  std::map<std::string, Handle> handles_;
  std::atomic<size_t> takeovers_{0};
  size_t takeovers_total_ = 0;  // over every TakeOverAndRelease
};

// The smallest demonstration of both modes, and of the wrapper itself.
TEST_F(PowerLossTest, SyncedSaveSurvivesAndUnsyncedSaveIsLost) {
  for (bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "sync_writes=true" : "sync_writes=false");
    volume_ = FaultVolume::InMemory();
    auto engine = Engine::Open(kPath, Options(sync));
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
    auto players = engine_->OpenStore<BytesCodec>(kStore, PlayerOptions());
    ASSERT_OK(players);
    auto profile = players->StartSession("alice");
    ASSERT_OK(profile);
    ASSERT_OK(profile->Edit([](std::string& d) { d = "gold=10"; }));
    ASSERT_OK(profile->Save());
    if (!sync) EXPECT_GT(volume_->fs().UnsyncedBytes(), 0u);
    handles_.emplace("alice", std::move(*profile));
    ASSERT_NO_FATAL_FAILURE(CrashAndRecover());

    StoredState stored = ReadStored({"alice"});
    if (sync) {
      ASSERT_EQ(stored.count("alice"), 1u);
      EXPECT_EQ(stored["alice"].data, "gold=10");
      EXPECT_TRUE(stored["alice"].locked);  // the dead engine's lock: an orphan
    } else {
      // The write-ahead log was never synced: every commit is gone (RocksDB's own files, synced
      // when the database was created, remain, so it still opens).
      EXPECT_EQ(stored.count("alice"), 0u);
    }
    StoredState after = TakeOverAndRelease(stored, sync);
    EXPECT_EQ(after.count("alice"), sync ? 1u : 0u);
  }
}

// What the rounds of one test did, summed.
struct RoundTally {
  int rounds = 0;
  int cuts_landed = 0;          // the power went inside the workload (not at its end)
  int table_cuts_landed = 0;    // ... inside a flush or a compaction (a table file's append)
  int acknowledged = 0;         // commits acknowledged before the power went
  int rounds_acknowledged = 0;  // rounds with an acknowledged commit for the check to find
  int rounds_with_loss = 0;     // rounds whose recovered state lost an acknowledged commit
  size_t takeovers = 0;         // orphaned locks the next engine took over
  std::string Describe() const {
    return std::to_string(rounds) + " rounds, " + std::to_string(cuts_landed) +
           " cuts landed inside the workload (" + std::to_string(table_cuts_landed) +
           " in a table file), " + std::to_string(acknowledged) + " commits acknowledged (in " +
           std::to_string(rounds_acknowledged) + " rounds), " + std::to_string(rounds_with_loss) +
           " rounds lost acknowledged commits, " + std::to_string(takeovers) +
           " orphaned locks taken over";
  }
};

// Random workloads cut by power loss at random file-system calls, round after round on one
// database. Returns what the rounds did.
class PowerLossRounds : public PowerLossTest {
 protected:
  RoundTally RunRounds(bool sync, int rounds) {
    const uint64_t seed = Seed();
    std::cout << "power-loss seed " << seed << " (HOLDFAST_SEED=" << seed << " replays)\n";
    std::mt19937_64 rng(seed);
    const std::vector<std::string> keys = {"k0", "k1", "k2", "k3", "k4", "k5"};
    StoredState base;  // the recovered state each round starts from
    RoundTally tally;
    for (int round = 0; round < rounds && !HasFatalFailure(); ++round) {
      const std::string position =
          "round " + std::to_string(round) + ", seed " + std::to_string(seed);
      SCOPED_TRACE(position);
      Watchdog watchdog("power-loss " + position, kRoundDeadline);
      std::vector<Commit> commits;
      const bool table_cut = rng() % 4 == 0;
      ArmPowerCut(1 + rng() % 300, table_cut);
      RunWorkload(sync, round, rng, base, commits);
      if (HasFatalFailure()) break;
      ++tally.rounds;
      if (volume_->fs().crashed()) {  // before CrashAndRecover cuts the power itself
        ++tally.cuts_landed;
        tally.table_cuts_landed += table_cut;
      }
      for (const Commit& c : commits) tally.acknowledged += c.acknowledged;
      EXPECT_NO_FATAL_FAILURE(CrashAndRecover());
      StoredState stored = ReadStored(keys);

      // Find the prefixes of the commit order that explain the stored state.
      ptrdiff_t last_acked = -1;
      for (size_t i = 0; i < commits.size(); ++i) {
        if (commits[i].acknowledged) last_acked = static_cast<ptrdiff_t>(i);
      }
      tally.rounds_acknowledged += last_acked >= 0;
      StoredState state = base;
      std::optional<size_t> longest;
      for (size_t k = 0;; ++k) {
        if (state == stored) longest = k;
        if (k == commits.size()) break;
        Stored& s = state[commits[k].key];
        if (commits[k].data) s.data = commits[k].data;
        s.locked = commits[k].locked;
      }
      if (!longest) {
        std::string detail;
        for (const auto& [key, s] : stored) {
          detail += " " + key + "=" + Describe(s.data) + (s.locked ? "(locked)" : "");
        }
        ADD_FAILURE() << "the recovered state is not a prefix of the " << commits.size()
                      << " commits; stored:" << detail;
      } else if (static_cast<ptrdiff_t>(*longest) <= last_acked) {
        ++tally.rounds_with_loss;
        EXPECT_FALSE(sync) << "acknowledged commits lost with sync_writes=true: recovered "
                           << *longest << " of " << commits.size() << " commits, the last "
                           << "acknowledged was #" << last_acked;
      }
      const size_t takeovers_before = takeovers_total_;
      base = TakeOverAndRelease(stored, sync);
      tally.takeovers += takeovers_total_ - takeovers_before;
    }
    std::cout << (sync ? "sync on: " : "sync off: ") << tally.Describe() << "\n";
    return tally;
  }

  // Starts, edits + saves, ends, steals and handoffs on a few keys until the power goes.
  void RunWorkload(bool sync, int round, std::mt19937_64& rng, const StoredState& base,
                   std::vector<Commit>& commits) {
    // The engine opens on every recovered image, and a power cut during the open (the image
    // freezes, the engine carries on) must not fail it either.
    auto engine = Engine::Open(kPath, Options(sync));
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
    auto opened = engine_->OpenStore<BytesCodec>(kStore, PlayerOptions());
    ASSERT_OK(opened);
    Players players = std::move(*opened);
    std::map<std::string, bool> has_data;
    for (const auto& [key, s] : base) has_data[key] = s.data.has_value();
    std::map<std::string, std::optional<std::string>> dirty;  // edited, not yet saved
    // An operation is acknowledged when it succeeded before the crash froze the disk; one that
    // returns after the freeze is in doubt, however it returned.
    auto acknowledged = [&](const Status& s) { return s.ok() && !volume_->fs().crashed(); };
    const int operations = 10 + static_cast<int>(rng() % 120);
    for (int op = 0; op < operations && !volume_->fs().crashed(); ++op) {
      const std::string key = "k" + std::to_string(rng() % 6);
      const bool held = handles_.count(key) > 0;
      const uint32_t dice = rng() % 100;
      if (!held || dice < 8) {  // start; a steal or a handoff when the key is held
        SessionOptions options;
        options.steal = held && dice < 4;
        options.timeout = 10s;
        if (held && !options.steal) {  // handoff: the holder's final save, then the acquire
          commits.push_back({key, dirty[key], false, false});
        }
        const bool creates = !has_data[key];
        commits.push_back({key, creates ? std::optional<std::string>(kTemplate) : std::nullopt,
                           true, false});
        auto profile = players.StartSession(key, options);
        if (!acknowledged(profile.status())) continue;
        commits.back().acknowledged = true;
        if (held && !options.steal) commits[commits.size() - 2].acknowledged = true;
        has_data[key] = true;
        dirty[key].reset();
        handles_.erase(key);
        handles_.emplace(key, std::move(*profile));
      } else if (dice < 80) {  // edit and save
        std::string value = "r" + std::to_string(round) + "-o" + std::to_string(op) + "-" + key +
                            "-" + std::string(rng() % 6000, static_cast<char>('a' + op % 26));
        ASSERT_OK(handles_.at(key).Edit([&](std::string& d) { d = value; }));
        dirty[key] = value;
        commits.push_back({key, value, true, false});
        if (acknowledged(handles_.at(key).Save())) {
          commits.back().acknowledged = true;
          dirty[key].reset();
        }
      } else {  // end: the final save writes the unsaved edit, if any
        commits.push_back({key, dirty[key], false, false});
        if (acknowledged(handles_.at(key).EndSession())) {
          commits.back().acknowledged = true;
          dirty[key].reset();
          handles_.erase(key);
        }
      }
    }
  }
};

// The minimums are about half of the fewest seen over seven seeds (the default and 1-6; the
// range in parentheses), so that any seed passes them and a harness or an engine that stopped
// committing, cutting or recovering does not.

TEST_F(PowerLossRounds, SyncOnLosesNoAcknowledgedCommit) {
  RoundTally tally = RunRounds(/*sync=*/true, 40);
  EXPECT_EQ(tally.rounds_with_loss, 0);
  EXPECT_EQ(tally.rounds, 40) << tally.Describe();
  EXPECT_GE(tally.cuts_landed, 12) << tally.Describe();          // (24-32)
  EXPECT_GE(tally.table_cuts_landed, 1) << tally.Describe();     // (5-7)
  EXPECT_GE(tally.acknowledged, 600) << tally.Describe();        // (1300-1757)
  EXPECT_GE(tally.rounds_acknowledged, 25) << tally.Describe();  // (33-38)
  EXPECT_GE(tally.takeovers, 80u) << tally.Describe();           // (160-184)
}

TEST_F(PowerLossRounds, SyncOffRecoversAPrefixOfCommitOrder) {
  RoundTally tally = RunRounds(/*sync=*/false, 40);
  // The simulation must bite: without syncs, recent commits are really lost in most rounds.
  EXPECT_GE(tally.rounds_with_loss, 16)  // (32-36)
      << "too few rounds lost anything: the power-loss simulation drops too little; "
      << tally.Describe();
  EXPECT_EQ(tally.rounds, 40) << tally.Describe();
  EXPECT_GE(tally.cuts_landed, 7) << tally.Describe();           // (15-26)
  EXPECT_GE(tally.table_cuts_landed, 1) << tally.Describe();     // (2-9)
  EXPECT_GE(tally.acknowledged, 800) << tally.Describe();        // (1631-2253)
  EXPECT_GE(tally.rounds_acknowledged, 25) << tally.Describe();  // (32-37)
  EXPECT_GE(tally.takeovers, 50u) << tally.Describe();           // (88-147)
}

}  // namespace
}  // namespace holdfast::test
