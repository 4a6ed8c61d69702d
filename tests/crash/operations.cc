#include "operations.h"

#include <chrono>

#include "worker.h"

namespace holdfast::crash {
namespace {

using namespace std::chrono_literals;

// A start on a profile this process does not hold must not wait (RocksDB): the profile is free
// or its lock is an orphan of a killed worker, which is taken over at once; on PostgreSQL it waits
// for the dead worker's lease to run out (Worker::ForeignStartTimeout). On a profile it holds, the
// start is a handoff and waits for the holder's final save.
void RunStart(Worker& w, uint64_t op) {
  const std::string key = w.RandomKey();
  SessionOptions options;
  options.timeout =
      w.live().count(key) ? std::chrono::milliseconds(10s) : w.ForeignStartTimeout();
  w.Intent(op, "start", key);
  w.Ack(op, w.Start(key, options));
}

void RunHandoff(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  SessionOptions options;
  options.timeout = 10s;
  w.Intent(op, "handoff", *key);
  w.Ack(op, w.Start(*key, options));
}

void RunSteal(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  SessionOptions options;
  options.steal = true;
  options.timeout = 10s;
  w.Intent(op, "steal", *key);
  w.Ack(op, w.Start(*key, options));
}

// Sets new data: a payload named after this session's epoch and this operation.
void RunEdit(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  Worker::Session& s = w.live().at(*key);
  Tag tag{*key, s.epoch, op};
  std::string payload = MakePayload(tag, 100 + w.rng()() % 3000);
  w.Intent(op, "edit", *key, tag.Text());
  w.Ack(op, s.handle.Edit([&](std::string& data) { data = payload; }));
}

void RunSave(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  w.Intent(op, "save", *key);
  w.Ack(op, w.Save(*key));
}

// Edits a live session, then races its Save against a steal so that the stale save reaches the
// fence check in the database (not only the handle's in-memory fence). Acknowledges the steal.
void RunRacingSave(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  Worker::Session& s = w.live().at(*key);
  Tag tag{*key, s.epoch, op};
  std::string payload = MakePayload(tag, 100 + w.rng()() % 3000);
  w.Intent(op, "racing-save", *key, tag.Text());
  Status edited = s.handle.Edit([&](std::string& data) { data = payload; });
  if (!edited.ok()) {
    w.out().Send("unexpected " + std::string(StatusCodeName(edited.code())) +
                 " the edit before a racing save of " + *key + " returned it");
    return w.Ack(op, edited);
  }
  w.Ack(op, w.RaceSaveAgainstSteal(*key));
}

void RunEnd(Worker& w, uint64_t op) {
  auto key = w.RandomLiveKey();
  if (!key) return RunStart(w, op);
  w.Intent(op, "end", *key);
  w.Ack(op, w.End(*key));
}

// A session that was ended, handed off or stolen from tries to write: it must be refused.
void RunStaleWrite(Worker& w, uint64_t op) {
  if (w.retired().empty()) return RunEdit(w, op);
  Handle& old = w.retired()[w.rng()() % w.retired().size()];
  const std::string key = old.Info().key;
  w.Intent(op, "stale-write", key);
  Status s = old.Edit([](std::string& data) { data = "stale"; });
  if (s.ok()) s = old.Save();
  w.Ack(op, s);
}

// Makes one of the newest versions of a profile current again (ending its session here, if
// any). Versions further back could be pruned by that session's final save.
void RunRollback(Worker& w, uint64_t op) {
  constexpr size_t kNewestVersions = 40;  // retention keeps at least the newest 50
  const std::string key = w.RandomKey();
  auto versions = w.players().Versions(key);
  if (versions.status().code() == StatusCode::kNotFound) return RunStart(w, op);  // not created
  if (!versions.ok()) {
    w.Intent(op, "rollback", key, kTemplate);
    return w.Ack(op, versions.status().WithContext("versions"));
  }
  std::vector<uint64_t> candidates;
  for (const VersionInfo& v : *versions) {
    if (candidates.size() == kNewestVersions) break;
    if (!v.damaged && v.reason != VersionReason::kQuarantine) candidates.push_back(v.version);
  }
  if (candidates.empty()) return RunStart(w, op);
  const uint64_t version = candidates[w.rng()() % candidates.size()];
  auto view = w.players().Get(key, version);
  std::optional<Tag> restored;
  if (view.ok()) restored = ParsePayload(view->data);
  if (!restored) {
    w.Intent(op, "rollback", key, kTemplate);
    return w.Ack(op, view.ok() ? Status::Corruption("version " + std::to_string(version) +
                                                    " holds no payload of this test")
                               : view.status().WithContext("get version"));
  }
  w.Intent(op, "rollback", key, restored->Text());
  w.Ack(op, w.Rollback(key, version, *restored));
}

// Items move between two vault accounts in one Engine::Trade; the checker's conservation rule
// (checker.h) is what this operation is for.
void RunTrade(Worker& w, uint64_t op) {
  w.Intent(op, "trade", "-");
  w.Ack(op, w.Trade());
}

// Mailboxes (mailbox.h): sends, sessions whose handler applies them, erasure.
void RunMailSend(Worker& w, uint64_t op) {
  const std::string box = w.mail().RandomMailbox(w.rng());
  w.Intent(op, "mail-send", "-", box);
  w.Ack(op, w.mail().Send(box, op));
}

void RunMailStart(Worker& w, uint64_t op) {
  const std::string box = w.mail().RandomMailbox(w.rng());
  w.Intent(op, "mail-start", "-", box);
  w.Ack(op, w.mail().Start(box));
}

void RunMailEnd(Worker& w, uint64_t op) {
  const std::string box = w.mail().RandomMailbox(w.rng());
  w.Intent(op, "mail-end", "-", box);
  w.Ack(op, w.mail().End(box));
}

void RunMailErase(Worker& w, uint64_t op) {
  const std::string box = w.mail().RandomMailbox(w.rng());
  w.Intent(op, "mail-erase", "-", box);
  w.Ack(op, w.mail().Erase(box));
}

// A clean shutdown and restart inside one worker: final saves of every live session.
void RunReopen(Worker& w, uint64_t op) {
  w.Intent(op, "reopen", "-");
  w.Ack(op, w.Reopen());
}

}  // namespace

const std::vector<Operation>& Operations() {
  using C = StatusCode;
  static const std::vector<Operation> kTable = {
      {"start", 16, {C::kOk}, RunStart},
      {"edit", 30, {C::kOk}, RunEdit},
      {"save", 14, {C::kOk}, RunSave},
      {"end", 8, {C::kOk}, RunEnd},
      {"handoff", 6, {C::kOk}, RunHandoff},
      {"steal", 4, {C::kOk}, RunSteal},
      {"stale-write", 3, {C::kLockLost, C::kClosed}, RunStaleWrite},
      {"reopen", 1, {C::kOk}, RunReopen},
      {"rollback", 3, {C::kOk}, RunRollback},
      {"racing-save", 2, {C::kOk}, RunRacingSave},
      {"trade", 6, {C::kOk}, RunTrade},
      {"mail-send", 6, {C::kOk, C::kResourceExhausted}, RunMailSend},
      {"mail-start", 3, {C::kOk}, RunMailStart},
      {"mail-end", 1, {C::kOk}, RunMailEnd},
      {"mail-erase", 1, {C::kOk, C::kNotFound}, RunMailErase},
  };
  return kTable;
}

const Operation* FindOperation(std::string_view name) {
  for (const Operation& o : Operations()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace holdfast::crash
