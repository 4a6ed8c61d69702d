#include "model.h"

#include <cstdio>
#include <cstdlib>

#include "holdfast/status.h"
#include "operations.h"

namespace holdfast::crash {
namespace {

uint64_t Number(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

}  // namespace

void Violations::Add(const std::string& what) {
  ++count_;
  if (count_ <= 100) std::printf("VIOLATION [%s] %s\n", context_.c_str(), what.c_str());
  std::fflush(stdout);
}

bool ProfileModel::Known(const Tag& t) const {
  if (t.is_template()) return true;
  if (floor && *floor == t) return true;
  for (const auto& [epoch, value] : loaded) {
    if (value == t) return true;
  }
  if (restored_at.count(t.Text()) || restorable.count(t.Text())) return true;
  return edits.count({t.epoch, t.op}) > 0;
}

bool ProfileModel::Earlier(const Tag& a, const Tag& b) const {
  auto order = [&](const Tag& t) {
    auto it = restored_at.find(t.Text());
    if (it != restored_at.end()) return std::pair<uint64_t, uint64_t>(it->second, 0);
    return std::pair<uint64_t, uint64_t>(t.epoch, t.op);
  };
  return order(a) < order(b);
}

std::optional<Tag> ProfileModel::Newest(const std::optional<Tag>& a, const Tag& b) const {
  if (!a || Earlier(*a, b)) return b;
  return a;
}

bool ProfileModel::RestoredBy(const Tag& t, uint64_t record_epoch) {
  if (!t.is_template() && record_epoch == t.epoch) return false;  // written by its own session
  auto it = restored_at.find(t.Text());
  if (it != restored_at.end() && it->second == record_epoch) return true;
  if (!restorable.count(t.Text())) return false;
  restored_at[t.Text()] = record_epoch;
  return true;
}

Model::Model(int keys, Violations& violations, const std::string& prefix)
    : v_(violations), mail_(prefix) {
  for (int i = 0; i < keys; ++i) {
    char name[8];
    std::snprintf(name, sizeof(name), "p%02d", i);
    profiles_[prefix + name];
  }
}

void Model::BeginRun() {
  mail_.BeginRun();
  for (auto& [key, p] : profiles_) {
    p.loaded.clear();
    p.handle_data.clear();
    p.edits.clear();
    p.live_epoch.reset();
    p.orphan_reported = false;
    p.restorable.clear();
    p.rollback_epoch = 0;
  }
  pending_.clear();
  failures_tolerated_ = false;
}

ProfileModel* Model::Profile(const std::string& key) {
  auto it = profiles_.find(key);
  if (it == profiles_.end()) {
    v_.Add("a message names unknown profile '" + key + "'");
    return nullptr;
  }
  return &it->second;
}

void Model::Apply(const Message& m) {
  ++counts_[m.kind];
  mail_.Apply(m);
  const auto& w = m.words;
  auto need = [&](size_t n) {
    if (w.size() >= n) return true;
    v_.Add("malformed message '" + m.kind + "'");
    return false;
  };
  if (m.kind == "intent" && need(3)) {
    const uint64_t op = Number(w[0]);
    ++intents_;
    next_op_ = std::max(next_op_, op + 1);
    pending_[op] = {w[1], w[2], std::nullopt};
    if ((w[1] == "edit" || w[1] == "racing-save") && need(4)) {
      auto tag = ParseTag(w[3]);
      ProfileModel* p = Profile(w[2]);
      if (!tag || !p) return v_.Add("edit with a bad tag '" + w[3] + "'");
      p->edits.insert({tag->epoch, tag->op});
      pending_[op].tag = tag;
      // A racing save edits first and reports a violation itself if that Edit is refused.
      if (w[1] == "racing-save") p->handle_data[tag->epoch] = *tag;
    }
    if (w[1] == "rollback" && need(4)) {
      auto tag = ParseTag(w[3]);
      ProfileModel* p = Profile(w[2]);
      if (!tag || !p) return v_.Add("rollback with a bad tag '" + w[3] + "'");
      p->restorable.insert(tag->Text());
      if (p->damage && !p->damage->started) p->damage->rollback = true;
    }
  } else if (m.kind == "ack" && need(2)) {
    const uint64_t op = Number(w[0]);
    auto it = pending_.find(op);
    if (it == pending_.end()) return v_.Add("ack of operation " + w[0] + " without an intent");
    const Pending intent = it->second;
    const std::string& name = intent.name;
    const std::string& key = intent.key;
    pending_.erase(it);
    ++acknowledged_;
    if (name == "edit" && intent.tag && w[1] == StatusCodeName(StatusCode::kOk)) {
      // The Edit returned OK: from now on the handle holds this value, by the API's word.
      if (ProfileModel* p = Profile(key)) p->handle_data[intent.tag->epoch] = *intent.tag;
    }
    const Operation* row = FindOperation(name);
    bool allowed = failures_tolerated_ && w[1] != StatusCodeName(StatusCode::kOk);
    if (shared_database_ && name == "trade" && w[1] == StatusCodeName(StatusCode::kLockLost)) {
      allowed = true;
    }
    for (StatusCode c : row ? row->allowed : std::vector<StatusCode>{}) {
      allowed = allowed || StatusCodeName(c) == w[1];
    }
    if (!allowed) {
      std::string text;
      for (size_t i = 2; i < w.size(); ++i) text += " " + w[i];
      v_.Add("operation " + w[0] + " (" + name + " " + key + ") returned " + w[1] + ":" + text);
    }
  } else if (m.kind == "acquired" && need(4)) {
    auto tag = ParseTag(w[3]);
    if (!tag) return v_.Add("'" + w[0] + "' loaded an unparsable payload");
    Acquired(w[0], Number(w[1]), *tag);
  } else if (m.kind == "saved" && need(3)) {
    auto tag = ParseTag(w[2]);
    if (!tag) return v_.Add("'" + w[0] + "' saved an unparsable payload");
    Saved(w[0], Number(w[1]), *tag);
  } else if (m.kind == "rolledback" && need(3)) {
    auto tag = ParseTag(w[2]);
    if (!tag) return v_.Add("'" + w[0] + "' was rolled back to an unparsable payload");
    RolledBack(w[0], Number(w[1]), *tag);
  } else if (m.kind == "holds" && need(3)) {
    auto tag = ParseTag(w[2]);
    if (!tag) return v_.Add("'" + w[0] + "' holds an unparsable payload");
    Holds(w[0], Number(w[1]), *tag);
  } else if (m.kind == "ended" && need(4)) {
    Ended(w[0], Number(w[1]), w[2], w[3] == "1");
  } else if (m.kind == "orphan" && need(3)) {
    ProfileModel* p = Profile(w[0]);
    if (!p) return;
    if (!p->orphan) return v_.Add("takeover of '" + w[0] + "' reported, but it had no orphan lock");
    if (p->orphan->incarnation != Number(w[1]) || p->orphan->session_id != Number(w[2])) {
      v_.Add("takeover of '" + w[0] + "' names incarnation " + w[1] + " session " + w[2] +
             "; the stored lock was incarnation " + std::to_string(p->orphan->incarnation) +
             " session " + std::to_string(p->orphan->session_id));
    }
    p->orphan_reported = true;
  } else if (m.kind == "hello" && need(1)) {
    const uint64_t incarnation = Number(w[0]);
    if (incarnation <= last_incarnation_) {
      v_.Add("incarnation " + w[0] + " is not above " + std::to_string(last_incarnation_));
    }
    last_incarnation_ = std::max(last_incarnation_, incarnation);
  } else if (m.kind == "unexpected" && need(1)) {
    // A failure is expected while the storage is gone; anything else is a violation.
    if (failures_tolerated_ && w[0] != StatusCodeName(StatusCode::kOk)) return;
    std::string text;
    for (size_t i = 1; i < w.size(); ++i) text += " " + w[i];
    v_.Add("violation:" + text + " (" + w[0] + ")");
  } else if (m.kind == "open-failed" && failures_tolerated_) {
    return;  // the server was down or the lease lost: the open may fail
  } else if (m.kind == "open-failed" || m.kind == "violation") {
    v_.Add(m.kind + ": " + (w.empty() ? "" : w[0]));
  }
}

void Model::Acquired(const std::string& key, uint64_t epoch, const Tag& loaded) {
  ProfileModel* p = Profile(key);
  if (!p) return;
  const std::string at = "'" + key + "' epoch " + std::to_string(epoch) + ": ";
  if (epoch <= p->max_epoch) {
    v_.Add(at + "epochs must strictly increase; " + std::to_string(p->max_epoch) + " was seen");
  }
  if (p->live_epoch) {
    v_.Add(at + "two owners: epoch " + std::to_string(*p->live_epoch) + " had not ended");
  }
  if (p->orphan && !p->orphan_reported) {
    v_.Add(at + "took over an orphaned lock without reporting it");
  }
  if (!loaded.is_template() && loaded.key != key) v_.Add(at + "loaded another profile's data");
  if (p->floor && p->Earlier(loaded, *p->floor)) {
    v_.Add(at + "loaded " + loaded.Text() + ", older than the acknowledged " + p->floor->Text());
  } else if (!p->Known(loaded)) {
    v_.Add(at + "loaded " + loaded.Text() + ", a value never written");
  }
  if (loaded.epoch >= epoch) v_.Add(at + "loaded data of its own or a later epoch");
  if (p->damage && !p->damage->started && !p->damage->rollback) {
    // The first start since the parent damaged the record repairs it: from then on the restored
    // value counts as written at this epoch, as a rollback's does.
    p->restored_at[p->damage->restores.Text()] = epoch;
    if (!(loaded == p->damage->restores)) {
      v_.Add(at + "the first start after its data record was damaged loaded " + loaded.Text() +
             ", not the newest valid version " + std::to_string(p->damage->source_version) +
             " (" + p->damage->restores.Text() + ")");
    }
  }
  if (p->damage) p->damage->started = true;
  p->max_epoch = std::max(p->max_epoch, epoch);
  p->loaded[epoch] = loaded;
  p->handle_data[epoch] = loaded;
  p->floor = p->Newest(p->floor, loaded);
  p->exists = true;
  p->live_epoch = epoch;
  p->orphan.reset();
}

void Model::Saved(const std::string& key, uint64_t epoch, const Tag& value) {
  ProfileModel* p = Profile(key);
  if (!p) return;
  const std::string at =
      "'" + key + "' epoch " + std::to_string(epoch) + " saved " + value.Text() + ": ";
  auto own = p->loaded.find(epoch);
  const bool loaded_it = own != p->loaded.end() && own->second == value;
  const bool edited_it = value.epoch == epoch && p->edits.count({value.epoch, value.op});
  if (!loaded_it && !edited_it) v_.Add(at + "a value this session never had");
  // Fencing: the save committed before any newer acquisition, which therefore loaded it (or a
  // later value).
  auto next = p->loaded.upper_bound(epoch);
  if (next != p->loaded.end() && p->Earlier(next->second, value)) {
    v_.Add(at + "committed after epoch " + std::to_string(next->first) + " loaded " +
           next->second.Text() + " (a stale write was accepted)");
  }
  // A signal is the engine's word, not an acknowledgement: the floor rises on "holds" and
  // "ended" only.
}

void Model::Holds(const std::string& key, uint64_t epoch, const Tag& value) {
  ProfileModel* p = Profile(key);
  if (!p) return;
  const std::string at =
      "'" + key + "' epoch " + std::to_string(epoch) + " acknowledged " + value.Text() + ": ";
  auto it = p->handle_data.find(epoch);
  if (it == p->handle_data.end()) return v_.Add(at + "a session this run never acquired");
  if (!(it->second == value)) {
    v_.Add(at + "the handle holds other data than its last successful Edit set (" +
           it->second.Text() + ")");
  }
  p->floor = p->Newest(p->floor, value);
}

void Model::Ended(const std::string& key, uint64_t epoch, const std::string& reason,
                  bool unsaved) {
  ProfileModel* p = Profile(key);
  if (!p) return;
  if (p->live_epoch == epoch) p->live_epoch.reset();
  const std::string at = "'" + key + "' epoch " + std::to_string(epoch) + " ended (" + reason +
                         (unsaved ? ", unsaved" : "") + "): ";
  const bool final_save = reason == "manual" || reason == "external" || reason == "shutdown" ||
                          reason == "rollback";
  // While the storage is gone a final save may fail: Close then ends the session unsaved, as it
  // must (README, "Lifecycle").
  if (final_save && unsaved && !failures_tolerated_) {
    v_.Add(at + "its final save succeeded but left unsaved changes");
  }
  if (unsaved) return;
  // Nothing unsaved: every Edit that returned OK is stored, so the last one is a floor.
  auto it = p->handle_data.find(epoch);
  if (it != p->handle_data.end()) p->floor = p->Newest(p->floor, it->second);
}

void Model::RolledBack(const std::string& key, uint64_t epoch, const Tag& restored) {
  ProfileModel* p = Profile(key);
  if (!p) return;
  const std::string at = "'" + key + "' rolled back at epoch " + std::to_string(epoch) + " to " +
                         restored.Text() + ": ";
  if (epoch <= p->max_epoch) {
    v_.Add(at + "epochs must strictly increase; " + std::to_string(p->max_epoch) + " was seen");
  }
  if (p->live_epoch) {
    v_.Add(at + "the session of epoch " + std::to_string(*p->live_epoch) + " had not ended");
  }
  if (!restored.is_template() && restored.key != key) v_.Add(at + "another profile's data");
  if (!p->restorable.count(restored.Text())) v_.Add(at + "not the value the rollback asked for");
  // The rollback fences every older epoch (a dead worker's lock included) and its value is the
  // profile's newest.
  p->max_epoch = std::max(p->max_epoch, epoch);
  p->restored_at[restored.Text()] = epoch;
  p->loaded[epoch] = restored;
  p->floor = restored;
  p->exists = true;
  p->orphan.reset();
  p->rollback_epoch = std::max(p->rollback_epoch, epoch);
}

}  // namespace holdfast::crash
