// Where the shared oracle (history_oracle.h, stored_profile.h) reports what it finds: one string
// per broken rule, handed to a ViolationSink. Each harness consumes them its own way: the
// concurrency test collects them in a ViolationList and asserts at the end that it is empty, the
// fuzz driver does the same and aborts with FUZZ_CHECK, and the crash test's Violations (a sink
// too) prints them with the kill they belong to.
#ifndef HOLDFAST_TESTS_SUPPORT_VIOLATIONS_H_
#define HOLDFAST_TESTS_SUPPORT_VIOLATIONS_H_

#include <cstddef>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace holdfast::test {

class ViolationSink {
 public:
  virtual ~ViolationSink() = default;
  // One broken rule, described completely (which profile, which commit, what was expected).
  virtual void Add(const std::string& what) = 0;
};

// Collects violations from any thread; keeps the count and the first kKept descriptions.
class ViolationList final : public ViolationSink {
 public:
  static constexpr size_t kKept = 40;

  void Add(const std::string& what) override {
    std::lock_guard lock(mu_);
    ++count_;
    if (first_.size() < kKept) first_.push_back(what);
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  // "N violation(s)" and the first ones, one a line.
  std::string Report() const {
    std::lock_guard lock(mu_);
    std::ostringstream out;
    out << count_ << " violation(s)";
    for (const std::string& v : first_) out << "\n  - " << v;
    return out.str();
  }

 private:
  mutable std::mutex mu_;
  size_t count_ = 0;                // guarded by mu_
  std::vector<std::string> first_;  // guarded by mu_
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_SUPPORT_VIOLATIONS_H_
