#include "holdfast/status.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace holdfast {
namespace {

TEST(StatusTest, CodesNamesAndMessages) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = Status::LockLost("session ended");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kLockLost);
  EXPECT_EQ(s.ToString(), "LockLost: session ended");
  EXPECT_EQ(s.WithContext("save").ToString(), "LockLost: save: session ended");
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "ResourceExhausted");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad = Status::NotFound("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
}

TEST(StatusTest, ResultFromOkStatusBecomesInternal) {
  Result<int> r = Status::Ok();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(StatusDeathTest, ValueOfFailedResultAborts) {
  Result<int> bad = Status::TimedOut("late");
  EXPECT_DEATH((void)bad.value(), "TimedOut: late");
}

}  // namespace
}  // namespace holdfast
