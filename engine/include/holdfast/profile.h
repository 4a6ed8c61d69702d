// Profile<Codec>: the handle of an active session on one profile, with typed data.
//
// Data access is race-free by construction: the data lives inside the handle and is reached only
// through Edit(fn) and Read(fn), which run `fn` under the profile's data lock. Saves (yours, the
// auto-saver's, a handoff's) encode the data under the same lock, so they never see a half-made
// edit. Do not keep references to the data outside fn.
//
// Copies of a Profile share one session. All methods are thread-safe. Errors are those of
// RawSession (holdfast/session.h).
#ifndef HOLDFAST_PROFILE_H_
#define HOLDFAST_PROFILE_H_

#include <atomic>
#include <concepts>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "holdfast/codec.h"
#include "holdfast/session.h"

namespace holdfast {

template <typename Codec>
class Profile {
 public:
  using Value = typename Codec::Value;

  // Runs fn(Value&) under the data lock. LockLost (or Closed, at shutdown) when the session is
  // no longer active or its final save has already taken the data; the data is then not touched.
  // An Edit that returns OK is in what the session stores next (or, if the session is stolen
  // before that, reported by OnSessionEnd as unsaved_changes).
  // InvalidArgument (nothing runs) when called inside Edit or Read of the same profile.
  template <typename Fn>
  Status Edit(Fn&& fn) {
    if (slot_->HeldByThisThread()) {
      return Status::InvalidArgument(
          "Edit called inside Edit or Read of the same profile (it holds the data lock)");
    }
    std::lock_guard lock(slot_->mu);
    if (Status s = raw_.EditStatus(); !s.ok()) return s;
    typename Slot::Holding holding(*slot_);
    ++slot_->changes;
    std::forward<Fn>(fn)(slot_->data);
    return Status::Ok();
  }

  // Runs fn(const Value&) under the data lock and returns what fn returns. Works after the
  // session ended too, so that data a steal left unsaved can still be read. Inside Edit or Read
  // of the same profile, fn runs under the lock that call already holds.
  template <typename Fn>
  decltype(auto) Read(Fn&& fn) const {
    if (slot_->HeldByThisThread()) {
      return std::forward<Fn>(fn)(static_cast<const Value&>(slot_->data));
    }
    std::lock_guard lock(slot_->mu);
    typename Slot::Holding holding(*slot_);
    return std::forward<Fn>(fn)(static_cast<const Value&>(slot_->data));
  }

  // A copy of the current data.
  Value Data() const {
    return Read([](const Value& data) { return data; });
  }

  // The data as of the last successful save (or as loaded); see RawSession::LastSavedBytes
  // (no I/O unless edited since; an unreadable stored version gives Value{} and an on_error
  // event).
  Value LastSavedData() const {
    auto decoded = Codec::Decode(raw_.LastSavedBytes());
    return decoded.ok() ? std::move(*decoded) : Value{};
  }

  // Fills what the data lacks from the store's template, never overwriting what is there (what
  // "lacks" means is the codec's: json_codec.h, flatbuffer_codec.h).
  // InvalidArgument when the codec cannot reconcile (BytesCodec: the engine cannot see inside
  // opaque bytes); a codec's own refusal (the data unchanged); otherwise the statuses of Edit.
  Status Reconcile() {
    if constexpr (requires(Value & d, const Value& t) {
                    { Codec::Reconcile(d, t) } -> std::same_as<Status>;
                  }) {
      Status reconciled;
      Status edited =
          Edit([&](Value& d) { reconciled = Codec::Reconcile(d, *slot_->template_value); });
      return edited.ok() ? reconciled : edited;
    } else if constexpr (requires(Value & d, const Value& t) { Codec::Reconcile(d, t); }) {
      return Edit([this](Value& d) { Codec::Reconcile(d, *slot_->template_value); });
    } else {
      return Status::InvalidArgument("codec '" + std::string(Codec::kName) +
                                     "' cannot reconcile: its data is opaque to the engine");
    }
  }

  Status Save() { return raw_.Save(); }
  Status EndSession() { return raw_.EndSession(); }
  bool IsActive() const { return raw_.IsActive(); }
  ProfileInfo Info() const { return raw_.Info(); }
  Status AddUserId(int64_t id) { return raw_.AddUserId(id); }
  Status RemoveUserId(int64_t id) { return raw_.RemoveUserId(id); }
  Status SetMetadata(std::string_view key, std::string_view value) {
    return raw_.SetMetadata(key, value);
  }
  Status EraseMetadata(std::string_view key) { return raw_.EraseMetadata(key); }
  std::optional<std::string> Metadata(std::string_view key) const { return raw_.Metadata(key); }

  void OnSave(std::function<void()> fn) { raw_.OnSave(std::move(fn)); }
  void OnLastSave(std::function<void(EndReason)> fn) { raw_.OnLastSave(std::move(fn)); }
  void OnSessionEnd(std::function<void(const SessionEnd&)> fn) { raw_.OnSessionEnd(std::move(fn)); }
  // See RawSession::SetMessageHandler: the handler Edits the profile, then calls processed().
  void SetMessageHandler(MessageHandler fn) { raw_.SetMessageHandler(std::move(fn)); }
  // fn receives the data as saved.
  void OnAfterSave(std::function<void(const Value&)> fn) {
    if (!fn) {
      raw_.OnAfterSave(nullptr);
      return;
    }
    raw_.OnAfterSave([fn = std::move(fn)](std::string_view bytes) {
      auto decoded = Codec::Decode(bytes);
      if (decoded.ok()) fn(*decoded);
    });
  }

  const RawSession& raw() const { return raw_; }

 private:
  template <typename C>
  friend class Store;

  struct Slot final : SessionData {
    using Validate = std::function<Status(const Value&)>;
    Slot(Value d, std::shared_ptr<const Value> t, std::shared_ptr<const Validate> v)
        : data(std::move(d)), template_value(std::move(t)), validate(std::move(v)) {}
    // Every save validates the data before encoding it: invalid data is refused at the save,
    // never stored to be refused at the next load.
    Result<std::string> Encode(const std::function<void()>& on_encoded) override {
      std::lock_guard lock(mu);
      if (validate && *validate) {
        if (Status valid = (*validate)(data); !valid.ok()) {
          return Status::InvalidArgument("validate refused the data: " + valid.ToString() +
                                         "; nothing was written");
        }
      }
      Result<std::string> encoded = Codec::Encode(data);
      if (encoded.ok() && on_encoded) on_encoded();
      return encoded;
    }
    std::shared_ptr<const void> Capture() const override {
      std::lock_guard lock(mu);
      return std::make_shared<const Value>(data);
    }
    void Restore(const std::shared_ptr<const void>& captured) override {
      std::lock_guard lock(mu);
      data = *static_cast<const Value*>(captured.get());
      ++changes;
    }
    std::optional<uint64_t> ChangeCount() const override {
      std::lock_guard lock(mu);
      return changes;
    }
    bool HeldByThisThread() const override {
      return holder.load(std::memory_order_relaxed) == std::this_thread::get_id();
    }
    // Marks the data lock as held by this thread while user code runs under it.
    struct Holding {
      explicit Holding(const Slot& s) : slot(s) {
        slot.holder.store(std::this_thread::get_id(), std::memory_order_relaxed);
      }
      ~Holding() { slot.holder.store(std::thread::id(), std::memory_order_relaxed); }
      const Slot& slot;
    };
    mutable std::mutex mu;
    // The thread running Edit/Read under mu, if any. Only that thread can see its own id here,
    // so relaxed order is enough for "is it me?".
    mutable std::atomic<std::thread::id> holder{};
    Value data;
    uint64_t changes = 0;  // Edit and Restore calls (SessionData::ChangeCount)
    // The store's template and validate, shared by all its sessions (a copy in every session
    // would cost each live profile the template's size again).
    const std::shared_ptr<const Value> template_value;
    const std::shared_ptr<const Validate> validate;  // may be null, or hold an empty function
  };

  Profile(RawSession raw, std::shared_ptr<Slot> slot)
      : raw_(std::move(raw)), slot_(std::move(slot)) {}

  RawSession raw_;
  std::shared_ptr<Slot> slot_;
};

}  // namespace holdfast

#endif  // HOLDFAST_PROFILE_H_
