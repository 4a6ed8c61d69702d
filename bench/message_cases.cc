// Message delivery: Store::Message to a profile whose live session is in this engine, timed from
// the call to the session's message handler receiving it, against the same hand-written on raw
// RocksDB: one synced append of the message record, then a waiting consumer thread woken.
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "cases.h"
#include "holdfast_fixture.h"
#include "raw_rocksdb_baseline.h"

namespace holdfast::bench {
namespace {

constexpr const char* kFamily = "Message delivery";
constexpr size_t kMessageBytes = 256;

// The moment each numbered message reached its receiver, and a wait for one of them.
class Arrivals {
 public:
  void Arrived(uint64_t number) {
    const auto now = SteadyClock::now();
    std::lock_guard lock(mu_);
    last_ = number;
    at_ = now;
    cv_.notify_all();
  }
  // When message `number` arrived; nullopt when it has not within 10 s (the case then stops).
  std::optional<SteadyClock::time_point> WaitFor(uint64_t number) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return last_ >= number; })) {
      return std::nullopt;
    }
    return at_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t last_ = 0;
  SteadyClock::time_point at_;
};

double Micros(SteadyClock::time_point from, SteadyClock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

// Holdfast: `count` messages to a held profile, one at a time; each handler edits the profile
// and marks the message processed, and a Save (untimed) stores that before the next message.
std::vector<double> HoldfastLatencies(const std::string& dir, int count) {
  auto engine = OpenEngineOrFail(dir, BenchEngineOptions(/*sync=*/true));
  auto store = OpenStoreOrFail(*engine);
  auto holder = store.StartSession("inbox");
  if (!holder.ok()) Fail("starting the receiver: " + holder.status().ToString());
  Arrivals arrivals;
  uint64_t delivered = 0;
  holder->SetMessageHandler([&](const Message& message, const MessageProcessed& processed) {
    (void)holder->Edit([&](std::string& d) { d = message.payload; });
    processed();
    arrivals.Arrived(++delivered);
  });
  std::string payload;
  FillRandomBytes(&payload, kMessageBytes, 5);
  std::vector<double> micros;
  for (int i = 1; i <= count; ++i) {
    StampCounter(&payload, i);
    const auto start = SteadyClock::now();
    if (Status s = store.Message("inbox", payload); !s.ok()) {
      std::fprintf(stderr, "bench: Message failed: %s\n", s.ToString().c_str());
      break;
    }
    auto arrived = arrivals.WaitFor(i);
    if (!arrived) {
      std::fprintf(stderr, "bench: message %d was not delivered within 10 s\n", i);
      break;
    }
    micros.push_back(Micros(start, *arrived));
    if (Status s = holder->Save(); !s.ok()) Fail("saving the receiver: " + s.ToString());
  }
  (void)holder->EndSession();
  if (Status s = engine->Close(); !s.ok()) Fail("closing: " + s.ToString());
  return micros;
}

// Raw RocksDB: a synced append of the message record, then a consumer thread woken.
std::vector<double> RawLatencies(const std::string& dir, int count) {
  std::string error;
  auto raw = RawRocksBaseline::Open(dir, /*sync=*/true, &error);
  if (!raw) Fail("opening the raw baseline: " + error);
  Arrivals arrivals;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t sent = 0;
  bool stop = false;
  std::thread consumer([&] {
    uint64_t seen = 0;
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stop || sent > seen; });
      if (stop) return;
      seen = sent;
      arrivals.Arrived(seen);
    }
  });
  std::string payload;
  FillRandomBytes(&payload, kMessageBytes, 6);
  std::vector<double> micros;
  for (int i = 1; i <= count; ++i) {
    StampCounter(&payload, i);
    const auto start = SteadyClock::now();
    if (!raw->Append("inbox/" + std::to_string(i), payload)) {
      std::fprintf(stderr, "bench: a raw append failed\n");
      break;
    }
    {
      std::lock_guard lock(mu);
      sent = i;
    }
    cv.notify_one();
    auto arrived = arrivals.WaitFor(i);
    if (!arrived) break;
    micros.push_back(Micros(start, *arrived));
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_one();
  consumer.join();
  return micros;
}

}  // namespace

void RunMessageDelivery(const BenchConfig& config, Report& report) {
  report.Note(kFamily,
              "`Store::Message` of " + std::to_string(kMessageBytes) +
                  " bytes to a profile whose live session is in the same engine (sync on), "
                  "timed from the call until the session's message handler has it; the handler "
                  "edits the profile and marks the message processed, and a `Save` (untimed) "
                  "stores that before the next message. The baseline is what a hand-written "
                  "inbox on raw RocksDB would do: one synced write of the message record, then "
                  "a waiting consumer thread woken. " +
                  std::to_string(config.messages) + " messages each. The issue sets no target.");
  const std::string dir = config.data_dir + "/messages";
  FreshDirectory(dir);
  const auto holdfast = HoldfastLatencies(dir + "/holdfast", config.messages);
  const auto raw = RawLatencies(dir + "/raw", config.messages);
  const std::string baseline = "synced raw RocksDB append + consumer thread woken";
  report.Add({kFamily, "message delivery to a live session: p50", "us",
              Percentile(holdfast, 0.5), Percentile(raw, 0.5), baseline + ", p50",
              Target::None()});
  report.Add({kFamily, "message delivery to a live session: p99", "us",
              Percentile(holdfast, 0.99), Percentile(raw, 0.99), baseline + ", p99",
              Target::None()});
  std::filesystem::remove_all(dir);
}

}  // namespace holdfast::bench
