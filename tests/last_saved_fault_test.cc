// LastSavedData when storage cannot be read. A live session keeps no copy of what it last
// stored: unedited since, its data answers without any I/O; edited since, the stored version is
// read, and a failed read is reported (EngineOptions::on_error, kLastSavedData) and answered
// empty — never with the edited data.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fault_fs.h"
#include "holdfast/holdfast.h"
#include "test_util.h"

namespace holdfast::test {
namespace {

constexpr const char* kFaultPath = "/last-saved-fault";

TEST(LastSavedFault, AnUneditedSessionAnswersWithoutStorageAndAnEditedOneReportsAFailedRead) {
  auto volume = FaultVolume::InMemory();
  auto errors = std::make_shared<std::vector<ErrorEvent>>();
  auto errors_mu = std::make_shared<std::mutex>();
  EngineOptions options;
  options.memory_volume = volume;
  options.conflict_buckets = 1024;
  options.on_orphan_takeover = [](const OrphanTakeover&) {};
  options.on_error = [errors, errors_mu](const ErrorEvent& e) {
    std::lock_guard lock(*errors_mu);
    errors->push_back(e);
  };
  StoreOptions<std::string> store_options;
  store_options.autosave = false;  // no write but the test's own
  {
    // Saved and closed: Close flushes, so the versions are read from table files afterwards.
    auto engine = Engine::Open(kFaultPath, options);
    ASSERT_OK(engine);
    auto players = (*engine)->OpenStore<BytesCodec>("Players", store_options);
    ASSERT_OK(players);
    for (const char* key : {"edited", "unedited"}) {
      auto profile = players->StartSession(key);
      ASSERT_OK(profile);
      ASSERT_OK(profile->Edit([&](std::string& d) { d = std::string(key) + "-saved"; }));
      ASSERT_OK(profile->EndSession());
    }
    ASSERT_OK((*engine)->Close());
  }
  auto engine = Engine::Open(kFaultPath, options);
  ASSERT_OK(engine);
  auto players = (*engine)->OpenStore<BytesCodec>("Players", store_options);
  ASSERT_OK(players);
  auto edited = players->StartSession("edited");
  ASSERT_OK(edited);
  auto unedited = players->StartSession("unedited");
  ASSERT_OK(unedited);
  ASSERT_OK(edited->Edit([](std::string& d) { d = "edited-unsaved"; }));

  volume->fs().FailNth(FileOpKind::kRead, 1, FaultMode::kFromNthOn);
  EXPECT_EQ(unedited->LastSavedData(), "unedited-saved");
  EXPECT_EQ(edited->LastSavedData(), "");
  EXPECT_EQ(edited->Data(), "edited-unsaved");
  volume->fs().ClearFaults();
  {
    std::lock_guard lock(*errors_mu);
    ASSERT_EQ(errors->size(), 1u);
    EXPECT_EQ(errors->front().operation, FailedOperation::kLastSavedData);
    EXPECT_EQ(errors->front().key, "edited");
    EXPECT_EQ(errors->front().status.code(), StatusCode::kIOError);
  }
  EXPECT_EQ(edited->LastSavedData(), "edited-saved");
  EXPECT_EQ(unedited->LastSavedData(), "unedited-saved");
  ASSERT_OK((*engine)->Close());
}

}  // namespace
}  // namespace holdfast::test
