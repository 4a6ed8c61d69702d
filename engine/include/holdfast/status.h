// Status and Result<T>: how every Holdfast call reports failure. No exceptions cross the API.
//
// Codes are chosen by what the caller should do next:
//   NotFound          the profile, version or store does not exist; nothing changed.
//   InvalidArgument   the call's input is wrong (a name, key, payload size or option); fix it.
//   Corruption        bytes read from disk failed verification; nothing was overwritten.
//   Locked            another session holds the profile and the call does not wait or steal
//                     (StartSession with SessionOptions::fail_if_held); nothing changed.
//   LockLost          this session no longer owns the profile (ended, handed off, stolen,
//                     rolled back); its writes are refused. Start a new session.
//   Removed           the profile was removed while the call ran. Not returned yet: reserved
//                     for Store::Remove (erasure), which lands with the data model.
//   Aborted           a newer start for the same key superseded this one.
//   Cancelled         the caller's cancel predicate or token ended the call.
//   TimedOut          the call's timeout passed before it could finish.
//   Closed            the engine is closing or closed, or the handle was ended.
//   Busy              a transaction conflicted and the engine's retries ran out; retry later.
//   ResourceExhausted a bounded resource (queue, disk space) is full; back off and retry.
//   IOError           the storage failed; the engine keeps data in memory and retries saves.
//   Internal          a bug or broken invariant in Holdfast; please report it.
//
// Thread safety: Status and Result are values; distinct objects may be used from any thread.
#ifndef HOLDFAST_STATUS_H_
#define HOLDFAST_STATUS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace holdfast {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,
  kInvalidArgument,
  kCorruption,
  kLocked,
  kLockLost,
  kRemoved,
  kAborted,
  kCancelled,
  kTimedOut,
  kClosed,
  kBusy,
  kResourceExhausted,
  kIOError,
  kInternal,
};

// The name of a code as written in docs and logs ("LockLost").
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Locked(std::string m) { return {StatusCode::kLocked, std::move(m)}; }
  static Status LockLost(std::string m) { return {StatusCode::kLockLost, std::move(m)}; }
  static Status Removed(std::string m) { return {StatusCode::kRemoved, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status Closed(std::string m) { return {StatusCode::kClosed, std::move(m)}; }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK" or "<CodeName>: <message>".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; the code is kept.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline std::ostream& operator<<(std::ostream& os, const Status& s) { return os << s.ToString(); }
inline std::ostream& operator<<(std::ostream& os, StatusCode c) { return os << StatusCodeName(c); }

// A value or a non-OK Status. Accessing value() of a failed Result is a programming error
// (it aborts with the status printed), so check ok() first.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}        // NOLINT: implicit
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT: implicit
    if (std::get<1>(state_).ok()) {
      state_.template emplace<1>(StatusCode::kInternal, "Result constructed from an OK Status");
    }
  }

  bool ok() const { return state_.index() == 0; }
  // OK when a value is held, the failure otherwise.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(state_); }

  T& value() & {
    CheckOk();
    return std::get<0>(state_);
  }
  const T& value() const& {
    CheckOk();
    return std::get<0>(state_);
  }
  T&& value() && {
    CheckOk();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const;
  std::variant<T, Status> state_;
};

namespace internal_status {
[[noreturn]] void DieOnBadResultAccess(const Status& status);
}  // namespace internal_status

template <typename T>
void Result<T>::CheckOk() const {
  if (!ok()) internal_status::DieOnBadResultAccess(std::get<1>(state_));
}

}  // namespace holdfast

#endif  // HOLDFAST_STATUS_H_
