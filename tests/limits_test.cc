#include "holdfast/limits.h"

#include <gtest/gtest.h>

#include "holdfast/engine.h"
#include "test_util.h"

namespace holdfast {
namespace {

TEST(LimitsTest, StoreNames) {
  EXPECT_OK(ValidateStoreName("Players"));
  EXPECT_OK(ValidateStoreName("a"));
  EXPECT_OK(ValidateStoreName(std::string(kMaxStoreNameBytes, 'x')));
  EXPECT_OK(ValidateStoreName("guild-data_v2.eu"));
  EXPECT_CODE(ValidateStoreName(""), kInvalidArgument);
  EXPECT_CODE(ValidateStoreName(std::string(kMaxStoreNameBytes + 1, 'x')), kInvalidArgument);
  EXPECT_CODE(ValidateStoreName("has space"), kInvalidArgument);
  EXPECT_CODE(ValidateStoreName(std::string("nul\0", 4)), kInvalidArgument);
  EXPECT_CODE(ValidateStoreName("slash/"), kInvalidArgument);
  EXPECT_CODE(ValidateStoreName("\xc3\xa9t\xc3\xa9"), kInvalidArgument);
}

TEST(LimitsTest, ProfileKeys) {
  EXPECT_OK(ValidateProfileKey("1"));
  EXPECT_OK(ValidateProfileKey(std::string("\0\xff", 2)));
  EXPECT_OK(ValidateProfileKey(std::string(kMaxProfileKeyBytes, 'k')));
  EXPECT_CODE(ValidateProfileKey(""), kInvalidArgument);
  EXPECT_CODE(ValidateProfileKey(std::string(kMaxProfileKeyBytes + 1, 'k')), kInvalidArgument);
}

TEST(LimitsTest, PayloadSize) {
  EXPECT_OK(ValidatePayloadSize(kDefaultMaxPayloadBytes, kDefaultMaxPayloadBytes));
  Status s = ValidatePayloadSize(kDefaultMaxPayloadBytes + 1, kDefaultMaxPayloadBytes);
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("4194305"), std::string::npos) << s;
}

TEST(LimitsTest, EngineRejectsBadOptions) {
  test::TempDir dir;
  EngineOptions options;
  options.max_payload_bytes = 0;
  EXPECT_CODE(Engine::Open(dir.Sub("db"), options), kInvalidArgument);
  options.max_payload_bytes = kMaxPayloadLimitBytes + 1;
  EXPECT_CODE(Engine::Open(dir.Sub("db"), options), kInvalidArgument);
  EXPECT_CODE(Engine::Open("", EngineOptions{}), kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("db")));  // refused before touching the disk
}

}  // namespace
}  // namespace holdfast
