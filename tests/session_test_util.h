// Fixtures for session tests: an in-memory engine on a fake clock, and CommitGate, a FaultHooks
// implementation that pauses, fails and records commits. Nothing here sleeps: tests block on
// conditions that the engine's own threads signal.
#ifndef HOLDFAST_TESTS_SESSION_TEST_UTIL_H_
#define HOLDFAST_TESTS_SESSION_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "records.h"
#include "test_backend.h"
#include "test_util.h"

namespace holdfast::test {

// Every raw record of one profile (meta, data, each version) as stored in `engine`, keyed by
// family and storage key, for "a failed call changed nothing" checks that compare bytes rather
// than decoded fields.
std::map<std::string, std::string> RawProfileRecords(Engine& engine, const std::string& store,
                                                     const std::string& key);

struct CommitRecord {
  CommitKind kind;
  std::string store;
  std::string key;
  uint64_t epoch;
  uint64_t session_id;
  uint64_t version;
};

class CommitGate : public FaultHooks {
 public:
  // The next commit of `kind` on `key` blocks in BeforeCommit until Release().
  void PauseNext(CommitKind kind, std::string key);
  // Blocks until a commit is parked at the gate.
  void WaitUntilPaused();
  // Lets the parked commit continue (and disarms the pause).
  void Release();

  // The next `count` commits matching `kind` (any kind when nullopt) fail with `status`.
  void FailNext(int count, Status status, std::optional<CommitKind> kind = std::nullopt);
  void ClearFailures();

  std::vector<CommitRecord> Committed() const;
  int BeforeCommitCalls() const;

  Status BeforeCommit(const CommitPoint& point) override;
  void AfterCommit(const CommitPoint& point, uint64_t version) override;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<CommitKind, std::string>> pause_;
  bool parked_ = false;
  bool released_ = false;
  int fail_count_ = 0;
  Status fail_status_;
  std::optional<CommitKind> fail_kind_;
  int before_calls_ = 0;
  std::vector<CommitRecord> committed_;
};

// Records every EngineOptions::on_error event; thread-safe (events come from engine workers too).
class ErrorLog {
 public:
  std::function<void(const ErrorEvent&)> Hook() {
    return [this](const ErrorEvent& e) {
      std::lock_guard lock(mu_);
      events_.push_back(e);
    };
  }
  std::vector<ErrorEvent> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::vector<ErrorEvent> events_;
};

// An engine on a MemoryVolume (or, with HOLDFAST_TEST_BACKEND=postgres, a fresh PostgreSQL
// database: test_backend.h) with a FakeClock and a CommitGate, and helpers to reopen it.
// Every ErrorEvent the engine reports is recorded (Errors()).
class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  EngineOptions Options();
  // What Engine::Open is given: the memory volume's path, or the test database's conninfo.
  std::string DatabasePath() const;
  void OpenEngine();
  void ReopenEngine();
  Store<BytesCodec> OpenPlayers(std::function<void(StoreOptions<std::string>&)> tweak = nullptr);
  // The payload stored for `key` in store `store`, read straight from storage.
  std::optional<std::string> StoredPayload(const std::string& store, const std::string& key);
  // The meta record (lock, epoch, load count) stored for the profile.
  std::optional<internal::ProfileMeta> StoredMeta(const std::string& store, const std::string& key);
  // Every raw record of the profile (meta, data, each version), keyed by family and storage key,
  // for "nothing changed" checks that compare bytes rather than decoded fields.
  std::map<std::string, std::string> RawRecords(const std::string& store, const std::string& key);

  // Closes the engine when it goes out of scope. Declare it after the locals that signal
  // handlers capture, so sessions end (and handlers run) while those locals still exist.
  struct CloseAtExit {
    SessionTest* test;
    ~CloseAtExit() {
      test->gate_->Release();
      if (test->engine_) (void)test->engine_->Close();
    }
  };
  CloseAtExit CloseEngineAtExit() { return CloseAtExit{this}; }

  // Every ErrorEvent reported so far, by every engine this test opened.
  std::vector<ErrorEvent> Errors() { return errors_->Events(); }

  std::shared_ptr<ErrorLog> errors_ = std::make_shared<ErrorLog>();
  std::shared_ptr<MemoryVolume> volume_ = MemoryVolume::Create();
  std::unique_ptr<TestPostgresDatabase> postgres_;  // on PostgreSQL only
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<CommitGate> gate_ = std::make_shared<CommitGate>();
  std::unique_ptr<Engine> engine_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_SESSION_TEST_UTIL_H_
