// The operation-sequence fuzzer's operations (fuzz/session_driver.cc: what they are checked
// against): each runs one call on the engine, predicts its outcome from the model and the armed
// faults, checks the exact status and what it returned, and brings the model along.
#include "session_driver_model.h"

namespace holdfast::fuzz::driver {

template <typename Call>
auto Driver::PastHandoffTimeout(Call call, const Outcome& release) -> decltype(call()) {
  internal::EngineCounters& c = EngineCounters();
  const uint64_t io_target = c.io_errors.load() + (release.storage_error() ? 1 : 0);
  const uint64_t conflicts_target = c.conflicts_retried.load() + release.restarts;
  std::optional<decltype(call())> result;
  std::atomic<bool> done{false};
  std::thread caller([&] {
    FuzzClock::MarkThisThread(true);
    result.emplace(call());
    FuzzClock::MarkThisThread(false);
    done.store(true);
  });
  auto accounted = [&] {
    return c.io_errors.load() >= io_target && c.conflicts_retried.load() >= conflicts_target &&
           h_.critical_entered_calls() - base_.entered_calls ==
               c.critical_state_entries.load() - base_.critical_entries;
  };
  // Well within the targets' -timeout (60 s), so that a hang is reported as what it is.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done.load() && !accounted()) {
    FUZZ_CHECK(std::chrono::steady_clock::now() < give_up,
               "the holder's final save was not accounted within 20 s");
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  h_.clock().SetAhead(kHandoffTimeout);
  caller.join();
  h_.clock().SetAhead(std::chrono::nanoseconds(0));
  return std::move(*result);
}

void Driver::Start(ProfileModel& key, Slot& slot, SessionOp op) {
  SessionOptions options;
  if (op == SessionOp::kStartSteal) options.steal = true;
  if (op == SessionOp::kStartNoWait) options.timeout = 0ms;
  if (op == SessionOp::kStartCancelled) {
    options.cancel_token = std::make_shared<CancelToken>();
    options.cancel_token->Cancel();
  }
  auto call = [&] { return h_.players().StartSession(key.name, options); };
  if (op == SessionOp::kStartCancelled) {
    FUZZ_CHECK_CODE(call(), kCancelled);
    return;
  }
  if (op == SessionOp::kStartNoWait && key.live) {
    FUZZ_CHECK_CODE(call(), kTimedOut);
    return;
  }
  // The commits of this start. A handoff is one transaction: the holder's final save, which
  // hands the lock to this start (its release point, then the start's acquisition point).
  // When it fails, the holder stays until handoff_timeout and the start then steals with an
  // acquisition of its own; without a holder (or stealing), the start's own acquisition.
  const bool handoff = key.live && op != SessionOp::kStartSteal;
  const Outcome release =
      handoff ? NextTransaction(key, {CommitKind::kRelease, CommitKind::kAcquire}) : Outcome{};
  const bool own_acquisition = !handoff || !release.ok();
  const Outcome acquire = own_acquisition ? NextCommit(key, CommitKind::kAcquire) : Outcome{};
  auto started = handoff && !release.ok() ? PastHandoffTimeout(call, release) : call();
  if (handoff) Account(release);
  if (own_acquisition) Account(acquire);
  if (key.live) {
    SessionModel& holder = *key.live;
    if (handoff && release.ok()) {
      Commit(key, holder, VersionReason::kHandoff);
      Ended(holder, State::kHandedOff, EndReason::kExternal, false);
      ++model_.handoffs;
    } else if (acquire.ok()) {
      // Stolen, at once or after the handoff timeout. Unsaved: what the holder has differs
      // from what is stored (a change undone before the steal loses nothing).
      Ended(holder, State::kStolen, EndReason::kStolen, UnsavedAgainstStored(key, holder));
      ++model_.steals;
    } else {
      // Fenced for a steal whose acquisition failed: ended all the same, judged against its
      // own last save; its lock stays stored.
      Ended(holder, State::kStolen, EndReason::kStolen, Changed(holder));
      key.stale_lock = true;
    }
    key.live.reset();
  }
  if (!acquire.ok()) {
    CheckCode(started.status(), acquire.code, "StartSession with a failing acquisition");
    return;
  }
  FUZZ_CHECK(started.ok(), started.status().ToString());
  if (key.orphan_lock) ++model_.orphans, ++model_.orphan_reports;
  key.orphan_lock = false;
  key.stale_lock = false;
  ++key.epoch;
  ++key.load_count;
  if (!key.exists) {
    key.exists = true;
    AppendVersion(key, kTemplate, VersionReason::kCreate, key.epoch);
  }

  auto session = std::make_shared<SessionModel>();
  session->data = session->saved = key.committed();
  session->user_ids = key.user_ids;
  session->metadata = key.metadata;
  session->epoch = key.epoch;
  Handle& handle = *started;
  FUZZ_CHECK(handle.Data() == key.committed(), "loaded " << Printable(handle.Data())
                                                         << ", expected "
                                                         << Printable(key.committed()));
  ProfileInfo info = handle.Info();
  FUZZ_CHECK(info.epoch == key.epoch, "epoch " << info.epoch << ", expected " << key.epoch);
  FUZZ_CHECK(info.load_count == key.load_count, "load count " << info.load_count);
  FUZZ_CHECK(info.version == key.history.newest().version, "loaded version " << info.version);
  for (const char* name : {"m0", "m1"}) {
    auto it = key.metadata.find(name);
    auto expected = it == key.metadata.end() ? std::nullopt : std::optional(it->second);
    FUZZ_CHECK(handle.Metadata(name) == expected, "metadata " << name);
  }
  handle.OnSessionEnd([ends = session->ends](const SessionEnd& e) {
    ++ends->calls;
    ends->last = e;
  });
  slot.handle.emplace(std::move(handle));
  slot.session = session;
  key.live = std::move(session);
}

void Driver::Edit(Slot& slot, const std::string& value) {
  if (!slot.handle) return;
  Status s = slot.handle->Edit([&](std::string& data) { data = value; });
  if (slot.session->state != State::kLive) {
    FUZZ_CHECK(s.code() == EndedCode(slot.session->state), "Edit on an ended session: " << s);
    return;
  }
  FUZZ_CHECK(s.ok(), s.ToString());
  slot.session->data = value;
}

bool Driver::UnsavedAgainstStored(const ProfileModel& key, const SessionModel& holder) {
  return holder.data != key.committed() || holder.user_ids != key.user_ids ||
         holder.metadata != key.metadata;
}

void Driver::Save(ProfileModel& key, Slot& slot) {
  if (!slot.handle) return;
  SessionModel& session = *slot.session;
  if (session.state != State::kLive) {
    Status s = slot.handle->Save();
    FUZZ_CHECK(s.code() == EndedCode(session.state), "Save on an ended session: " << s);
    return;
  }
  const bool writes = Changed(session);
  const Outcome o = writes ? NextCommit(key, CommitKind::kSave) : Outcome{};
  Status s = slot.handle->Save();
  if (writes) Account(o);
  if (!o.ok()) {
    // Nothing written; the session stays active with its data.
    CheckCode(s, o.code, "Save with a failing commit");
    return;
  }
  FUZZ_CHECK(s.ok(), s.ToString());
  if (writes) Commit(key, session, VersionReason::kSave);
}

void Driver::End(ProfileModel& key, Slot& slot) {
  if (!slot.handle) return;
  SessionModel& session = *slot.session;
  const Outcome o =
      session.state == State::kLive ? NextCommit(key, CommitKind::kRelease) : Outcome{};
  Status s = slot.handle->EndSession();
  if (session.state == State::kEnded) {
    FUZZ_CHECK(s.ok(), "EndSession is idempotent: " << s);
  } else if (session.state != State::kLive) {
    FUZZ_CHECK(s.code() == EndedCode(session.state), "EndSession on an ended session: " << s);
  } else {
    Account(o);
    if (!o.ok()) {
      // Nothing written; the session stays active and accepts edits again.
      CheckCode(s, o.code, "EndSession with a failing commit");
      return;
    }
    FUZZ_CHECK(s.ok(), s.ToString());
    Commit(key, session, VersionReason::kEndSession);
    Ended(session, State::kEnded, EndReason::kManual, false);
    key.live.reset();
  }
}

void Driver::Meta(Slot& slot, const MetaChange& change) {
  if (!slot.handle) return;
  Handle& handle = *slot.handle;
  SessionModel& session = *slot.session;
  Status s;
  switch (change.kind) {
    case MetaChange::kAddUserId:
      s = handle.AddUserId(change.user_id);
      break;
    case MetaChange::kRemoveUserId:
      s = handle.RemoveUserId(change.user_id);
      break;
    case MetaChange::kSetMetadata:
      s = handle.SetMetadata(change.key, change.value);
      break;
    case MetaChange::kEraseMetadata:
      s = handle.EraseMetadata(change.key);
      break;
    case MetaChange::kSetEmptyKey:
      FUZZ_CHECK_CODE(handle.SetMetadata("", change.value), kInvalidArgument);
      return;
  }
  if (session.state != State::kLive) {
    FUZZ_CHECK(s.code() == EndedCode(session.state), "meta change on an ended session: " << s);
    return;
  }
  FUZZ_CHECK(s.ok(), s.ToString());
  auto& ids = session.user_ids;
  const auto ids_before = ids;
  const auto metadata_before = session.metadata;
  auto at = std::lower_bound(ids.begin(), ids.end(), change.user_id);
  bool present = at != ids.end() && *at == change.user_id;
  if (change.kind == MetaChange::kAddUserId && !present) ids.insert(at, change.user_id);
  if (change.kind == MetaChange::kRemoveUserId && present) ids.erase(at);
  if (change.kind == MetaChange::kSetMetadata) session.metadata[change.key] = change.value;
  if (change.kind == MetaChange::kEraseMetadata) session.metadata.erase(change.key);
  // A change that changes nothing (adding an id it has) leaves nothing to save.
  if (ids != ids_before || session.metadata != metadata_before) session.meta_dirty = true;
}

void Driver::Orphan(ProfileModel& key) {
  if (key.live || !key.exists) return;  // a stale lock is replaced by the orphan's
  const uint64_t incarnation = h_.engine().Info().incarnation;
  const std::string stored_key = internal::EncodeProfileKey(kStoreName, key.name);
  Status s = internal::RunTransaction(
      test::StorageOf(h_.engine()), [&](internal::StorageTransaction& txn) -> Status {
        std::string bytes;
        if (Status r = txn.GetForUpdate(internal::Family::kMeta, stored_key, &bytes); !r.ok())
          return r;
        auto meta = internal::DecodeProfileMeta(bytes);
        if (!meta.ok()) return meta.status();
        int64_t now = h_.clock().WallUnixMillis();
        meta->lock = internal::SessionLock{incarnation - 1, 7, meta->epoch, now, now, "crashed"};
        return txn.Put(internal::Family::kMeta, stored_key, internal::EncodeProfileMeta(*meta));
      });
  FUZZ_CHECK(s.ok(), s.ToString());
  key.orphan_lock = true;
  key.stale_lock = false;
}

void Driver::EndForRollback(ProfileModel& key) {
  if (!key.live) return;
  Commit(key, *key.live, VersionReason::kEndSession);
  Ended(*key.live, State::kRolledBack, EndReason::kRollback, false);
  key.live.reset();
}

template <typename Call>
void Driver::ExpectRollback(ProfileModel& key, Call call, uint64_t version) {
  const VersionModel* source = key.exists ? key.history.Find(version) : nullptr;
  if (!source) {
    FUZZ_CHECK_CODE(call(), kNotFound, "(rollback to version " << version << ")");
    return;
  }
  std::string payload = source->payload;  // the final save below may prune `source`
  // Its commits: the live session's final save, then the rollback transaction.
  const bool live = key.live != nullptr;
  const Outcome release = live ? NextCommit(key, CommitKind::kRelease) : Outcome{};
  const Outcome txn = NextCommit(key, CommitKind::kRollback);
  auto rolled = live && !release.ok() ? PastHandoffTimeout(call, release) : call();
  if (live) Account(release);
  Account(txn);
  if (live && release.ok()) {
    EndForRollback(key);
  } else if (live) {
    // The final save failed: the rollback fenced the holder after the handoff timeout.
    SessionModel& holder = *key.live;
    if (txn.ok()) {
      Ended(holder, State::kStolen, EndReason::kStolen, UnsavedAgainstStored(key, holder));
    } else {
      Ended(holder, State::kStolen, EndReason::kStolen, Changed(holder));
      key.stale_lock = true;
    }
    key.live.reset();
  }
  if (!txn.ok()) {
    // Nothing of the rollback transaction is written (a final save before it stays).
    CheckCode(rolled.status(), txn.code, "rollback with a failing commit");
    return;
  }
  FUZZ_CHECK(rolled.ok(), "rollback to version " << version << ": " << rolled.status());
  ++key.epoch;  // fences every session that held the profile; the profile is left free
  key.orphan_lock = false;
  key.stale_lock = false;
  const uint64_t expected =
      AppendVersion(key, std::move(payload), VersionReason::kRollback, key.epoch, version);
  FUZZ_CHECK(*rolled == expected,
             "rollback wrote version " << *rolled << ", expected " << expected);
  ++model_.rollbacks;
}

void Driver::Rollback(ProfileModel& key, uint8_t version) {
  auto call = [&] { return h_.players().Rollback(key.name, version); };
  ExpectRollback(key, call, version);
}

void Driver::RollbackTo(ProfileModel& key, uint8_t time) {
  const int64_t unix_ms = start_unix_ms_ + TimeOf(time);
  auto call = [&] { return h_.players().RollbackTo(key.name, unix_ms); };
  const VersionModel* target = key.exists ? key.history.NewestAtOrBefore(unix_ms) : nullptr;
  if (!target) {
    FUZZ_CHECK_CODE(call(), kNotFound, "(rollback to time " << unix_ms << ")");
    return;
  }
  ExpectRollback(key, call, target->version);
}

void Driver::Versions(ProfileModel& key, uint8_t query_byte) {
  const VersionQuery query = QueryOf(query_byte, start_unix_ms_);
  auto listed = h_.players().Versions(key.name, query);
  if (!key.exists) {
    FUZZ_CHECK_CODE(listed, kNotFound);
    return;
  }
  FUZZ_CHECK(listed.ok(), listed.status().ToString());
  std::vector<const VersionModel*> expected = key.history.Select(query);
  FUZZ_CHECK(listed->size() == expected.size(),
             "listed " << listed->size() << " versions, expected " << expected.size()
                       << " (query byte " << int{query_byte} << ")");
  for (size_t i = 0; i < expected.size(); ++i) {
    CheckVersion((*listed)[i], *expected[i], /*with_source=*/true);
  }
}

void Driver::View(ProfileModel& key, uint8_t version) {
  auto view = version == 0 ? h_.players().Get(key.name) : h_.players().Get(key.name, version);
  const VersionModel* expected = !key.exists    ? nullptr
                                 : version == 0 ? &key.history.newest()
                                                : key.history.Find(version);
  if (!expected) {
    FUZZ_CHECK_CODE(view, kNotFound, "(Get version " << int{version} << ")");
    return;
  }
  FUZZ_CHECK(view.ok(), view.status().ToString());
  FUZZ_CHECK(view->data == expected->payload, "Get " << int{version} << " data "
                                                     << Printable(view->data) << ", expected "
                                                     << Printable(expected->payload));
  // The current data's view does not name the source of a rollback; a version's view does.
  CheckVersion(view->version, *expected, /*with_source=*/version != 0);
  FUZZ_CHECK(view->load_count == key.load_count, "view load count " << view->load_count);
  FUZZ_CHECK(view->user_ids == key.user_ids, "view user ids");
  FUZZ_CHECK(view->metadata == key.metadata, "view metadata");
  FUZZ_CHECK(view->locked == (key.live || key.orphan_lock || key.stale_lock),
             "view locked " << view->locked);
}

bool Driver::Autosave() {
  if (autosaves_++ >= kMaxAutosavesPerInput) return false;
  h_.clock().Advance(kAutosavePeriod);
  test::WaitAutosaveIdle(h_.engine());
  std::vector<StatusCode> results;  // in parallel on the workers: in any order
  for (ProfileModel& key : keys_) {
    if (!key.live || !Changed(*key.live)) continue;  // nothing to write: no commit
    const Outcome o = NextCommit(key, CommitKind::kSave);
    Count(o);
    results.push_back(o.code);
    if (o.ok()) Commit(key, *key.live, VersionReason::kSave);
  }
  Critical(std::move(results));
  return true;
}

bool Driver::Reopen() {
  if (reopens_++ >= max_reopens_) return false;
  Players closed = h_.players();
  Outcome final_saves[kKeys];
  std::vector<StatusCode> failures;
  for (int k = 0; k < kKeys; ++k) {
    if (!keys_[k].live) continue;
    final_saves[k] = NextCommit(keys_[k], CommitKind::kRelease);
    if (!final_saves[k].ok()) failures.push_back(final_saves[k].code);
  }
  Status s = h_.engine().Close();
  if (failures.empty()) {
    FUZZ_CHECK(s.ok(), s.ToString());
  } else {
    // The first failure of the final saves, which run in parallel.
    FUZZ_CHECK(std::find(failures.begin(), failures.end(), s.code()) != failures.end(),
               "Close with failing final saves -> " << s);
  }
  for (int k = 0; k < kKeys; ++k) {
    ProfileModel& key = keys_[k];
    // A stale lock is of this incarnation too: an orphan after the reopen.
    if (key.stale_lock) key.orphan_lock = true, key.stale_lock = false;
    if (!key.live) continue;
    Count(final_saves[k]);
    if (final_saves[k].ok()) {
      Commit(key, *key.live, VersionReason::kShutdown);
      Ended(*key.live, State::kShutdown, EndReason::kShutdown, false);
    } else {
      // Nothing written: the session ends, and its lock, of this incarnation, is an orphan
      // once the engine is open again.
      Ended(*key.live, State::kShutdown, EndReason::kShutdown, Changed(*key.live));
      key.orphan_lock = true;
    }
    key.live.reset();
  }
  CheckCounters(Read());  // the closed engine's (the critical state ends with it)
  FUZZ_CHECK_CODE(closed.StartSession(keys_[0].name), kClosed);
  FUZZ_CHECK_CODE(closed.Rollback(keys_[0].name, 1), kClosed);
  FUZZ_CHECK_CODE(closed.Versions(keys_[0].name), kClosed);
  FUZZ_CHECK_CODE(closed.Get(keys_[0].name), kClosed);
  h_.Reopen();
  ResetCounters();
  return true;
}

void Driver::EndEverySession() {
  DisarmAll();
  for (int k = 0; k < kKeys; ++k) {
    ProfileModel& key = keys_[k];
    if (!key.live) continue;
    Slot* holder = nullptr;
    for (Slot& slot : key.slots) {
      if (slot.session == key.live) holder = &slot;
    }
    if (!holder) {  // the handle was dropped: hand the session off to a new one
      holder = &key.slots[0];
      Start(key, *holder, SessionOp::kStart);
    }
    End(key, *holder);
    CheckAll(0, true);  // the commit log adds the profiles written
  }
  CheckAll(kAllKeys, true);  // also: no sessions left
}

}  // namespace holdfast::fuzz::driver
