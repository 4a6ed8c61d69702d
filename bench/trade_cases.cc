// Trades: Engine::SaveTogether of two profiles, each held by a live session and changed before
// every trade, against the same two profiles' records hand-written on raw RocksDB in one commit
// (a fenced transaction over both metas, and a plain WriteBatch), sync on and off.
#include <cstdio>
#include <vector>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"
#include "raw_rocksdb_baseline.h"

namespace holdfast::bench {
namespace {

constexpr const char* kFamily = "SaveTogether";
constexpr int kThreadCounts[] = {1, 4};
constexpr int kMaxThreads = 4;
constexpr size_t kPayloadBytes = 1024;

// Two live sessions one thread trades between.
struct TradePair {
  Profile<BytesCodec> a;
  Profile<BytesCodec> b;
  uint64_t counter = 0;
};

Profile<BytesCodec> StartWithPayload(Store<BytesCodec>& store, const std::string& key,
                                     uint64_t seed) {
  auto profile = store.StartSession(key);
  if (!profile.ok()) Fail("starting " + key + ": " + profile.status().ToString());
  std::string payload;
  FillRandomBytes(&payload, kPayloadBytes, seed);
  (void)profile->Edit([&](std::string& d) { d = std::move(payload); });
  return std::move(*profile);
}

// One trade: both profiles change (8 bytes each), then one SaveTogether.
bool Trade(Engine& engine, TradePair& pair) {
  ++pair.counter;
  (void)pair.a.Edit([&](std::string& d) { StampCounter(&d, pair.counter); });
  (void)pair.b.Edit([&](std::string& d) { StampCounter(&d, pair.counter); });
  return engine.SaveTogether(pair.a, pair.b).ok();
}

// The records one steady-state trade writes for one of its profiles (a trade version names its
// partner, so it is a little larger than a plain save's).
RecordSizes SteadyStateTradeSizes(Engine& engine, Store<BytesCodec>& store) {
  TradePair pair{StartWithPayload(store, "calibration-a", 1),
                 StartWithPayload(store, "calibration-b", 2)};
  for (uint64_t i = 0; i < kHistoryKept + 10; ++i) {
    if (!Trade(engine, pair)) Fail("a calibration trade failed");
  }
  const RecordSizes sizes = StoredRecordSizes(engine, "calibration-a");
  (void)pair.a.EndSession();
  (void)pair.b.EndSession();
  return sizes;
}

void RunGroup(const BenchConfig& config, bool sync, Report& report) {
  const std::string dir = config.data_dir + "/trades-" + (sync ? "sync" : "nosync");
  FreshDirectory(dir);
  auto engine = OpenEngineOrFail(dir + "/holdfast", BenchEngineOptions(sync));
  auto store = OpenStoreOrFail(*engine);
  const RecordSizes sizes = SteadyStateTradeSizes(*engine, store);

  std::vector<TradePair> pairs;
  std::string error;
  auto fenced = RawRocksBaseline::Open(dir + "/raw-fenced", sync, &error);
  auto batch = RawRocksBaseline::Open(dir + "/raw-batch", sync, &error);
  if (!fenced || !batch) Fail("opening a baseline: " + error);
  std::vector<RawRocksBaseline::Writer> fenced_writers, batch_writers;
  for (int t = 0; t < kMaxThreads; ++t) {
    const std::string a = ProfileKey(2 * t), b = ProfileKey(2 * t + 1);
    pairs.push_back({StartWithPayload(store, a, 10 + t), StartWithPayload(store, b, 20 + t)});
    for (auto* writers : {&fenced_writers, &batch_writers}) {
      writers->push_back(RawRocksBaseline::MakeWriter(a, sizes, 100 + 2 * t));
      writers->push_back(RawRocksBaseline::MakeWriter(b, sizes, 101 + 2 * t));
    }
  }
  auto raw_trade = [](RawRocksBaseline& db, std::vector<RawRocksBaseline::Writer>& writers,
                      int t, RawRocksBaseline::WriteKind kind) {
    return db.SaveAll({&writers[2 * t], &writers[2 * t + 1]}, kind);
  };
  for (int threads : kThreadCounts) {
    std::vector<ThroughputSystem> systems = {
        {"Holdfast", [&](int t) { return Trade(*engine, pairs[t]); }},
        {"raw RocksDB two-profile fenced transaction",
         [&](int t) {
           return raw_trade(*fenced, fenced_writers, t,
                            RawRocksBaseline::WriteKind::kFencedTransaction);
         }},
        {"raw RocksDB two-profile WriteBatch",
         [&](int t) {
           return raw_trade(*batch, batch_writers, t, RawRocksBaseline::WriteKind::kPlainBatch);
         }},
    };
    RunInTurns(systems, threads, config.save_rounds, config.save_slice_seconds);
    const std::string prefix = std::string(sync ? "synced" : "unsynced") +
                               " SaveTogether of two profiles, " + std::to_string(threads) +
                               (threads == 1 ? " thread" : " threads") + ": vs ";
    for (size_t i = 1; i < systems.size(); ++i) {
      report.Add({kFamily, prefix + systems[i].name, "trades/s", systems[0].PerSecond(),
                  systems[i].PerSecond(), systems[i].name, Target::None()});
    }
    std::fprintf(stderr, "bench: %s trades, %d threads done\n", sync ? "synced" : "unsynced",
                 threads);
  }
  for (TradePair& pair : pairs) {
    (void)pair.a.EndSession();
    (void)pair.b.EndSession();
  }
  if (Status s = engine->Close(); !s.ok()) Fail("closing: " + s.ToString());
  engine.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

void RunSaveTogether(const BenchConfig& config, Report& report) {
  report.Note(kFamily,
              "Each thread holds live sessions on two profiles of its own, changes 8 bytes of "
              "each 1 KiB payload and stores both with one `Engine::SaveTogether` (one "
              "transaction fenced on both epochs, a version of each naming the other). The raw "
              "RocksDB baselines write the same records for both profiles — data, meta and one "
              "history version each, with the sizes Holdfast's trade records have, pruning the "
              "newest-50 window — in one commit: a **fenced transaction** reading both metas "
              "with `GetForUpdate` (the like-for-like work), or a plain **WriteBatch** (the "
              "issue's baseline: no read, no fence). The issue sets no target for trades; the "
              "ratios are reported. Systems take turns in every round.");
  for (bool sync : {true, false}) RunGroup(config, sync, report);
}

}  // namespace holdfast::bench
