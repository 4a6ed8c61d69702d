// Helpers shared by Holdfast's tests: status assertions and fresh temporary directories.
#ifndef HOLDFAST_TESTS_TEST_UTIL_H_
#define HOLDFAST_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "holdfast/status.h"

// Status assertions that evaluate their argument once, print the status, and accept `<<`.
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::holdfast::test::IsOk, expr)
#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::holdfast::test::IsOk, expr)
// Asserts that `expr` (a Status or Result) failed with exactly StatusCode::`code`.
#define ASSERT_CODE(expr, code) \
  ASSERT_PRED_FORMAT2(::holdfast::test::HasCode, expr, ::holdfast::StatusCode::code)
#define EXPECT_CODE(expr, code) \
  EXPECT_PRED_FORMAT2(::holdfast::test::HasCode, expr, ::holdfast::StatusCode::code)

namespace holdfast::test {

inline Status ToStatus(const Status& s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.status();
}

template <typename T>
::testing::AssertionResult IsOk(const char* text, const T& value) {
  Status s = ToStatus(value);
  if (s.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << text << " -> " << s.ToString();
}

template <typename T>
::testing::AssertionResult HasCode(const char* text, const char*, const T& value,
                                   StatusCode expected) {
  Status s = ToStatus(value);
  if (s.code() == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << text << " -> " << s.ToString() << ", expected " << StatusCodeName(expected);
}

// A fresh directory under the system temp dir, removed (with everything in it) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A path inside the directory that does not exist yet.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Ends the process with a message naming `what` when it is not destroyed within `limit` of real
// time. A hung engine call cannot be abandoned; failing at once with the run's position beats
// hanging until ctest's timeout with no clue. Never used to wait for an event.
class Watchdog {
 public:
  Watchdog(std::string what, std::chrono::seconds limit);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;   // guarded by mu_
  std::thread thread_;  // last: starts once the members it uses exist
};

// Every regular file under `dir` with its full contents, for byte-identical comparisons.
std::map<std::string, std::string> SnapshotDirectory(const std::string& dir);

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_TEST_UTIL_H_
