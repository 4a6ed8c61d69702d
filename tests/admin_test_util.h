// A database on disk for the admin API and admin CLI tests: an engine on a fake clock (so every
// stored time is known), a bytes store with histories written one second apart, damage written
// straight into the column families, and closing so that the CLI can open the directory.
#ifndef HOLDFAST_TESTS_ADMIN_TEST_UTIL_H_
#define HOLDFAST_TESTS_ADMIN_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "storage.h"
#include "test_util.h"

namespace holdfast::test {

// The fake clock's start: 2026-01-01T00:00:00Z.
inline constexpr int64_t kStartUnixMs = 1'767'225'600'000;

// Every record of every family of `engine`'s database, keyed "<family>/<storage key>", for
// "nothing changed" checks: without the manifest (which each open rewrites) unless asked for.
std::map<std::string, std::string> RecordsOf(Engine& engine, bool with_manifest = false);

class AdminFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Options of every open here: the fake clock, owner "admin-test-server", small and unsynced.
  EngineOptions Options(bool create = true);
  void OpenEngine();
  void ReopenEngine();
  // Closes the engine so that another opener (the CLI, in or out of process) may take the LOCK.
  void CloseEngine();
  // "Players", a bytes store whose template is "new".
  Store<BytesCodec> OpenPlayers(StoreOptions<std::string> options = {});
  // Starts a session on `key` (creating it: version 1, the template, when new), then saves each
  // payload in turn one second apart (one version each), and ends the session.
  void WriteHistory(Store<BytesCodec>& store, const std::string& key,
                    const std::vector<std::string>& payloads);
  // Writes `bytes` under `raw_key` of `family`, bypassing every check (damage from outside).
  void WriteRaw(internal::Family family, const std::string& raw_key, const std::string& bytes);
  void DeleteRaw(internal::Family family, const std::string& raw_key);

  TempDir dir_;
  const std::string path_ = dir_.Sub("db");
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>(kStartUnixMs);
  std::unique_ptr<Engine> engine_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_ADMIN_TEST_UTIL_H_
