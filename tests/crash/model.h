// The parent's model of every profile, built from the worker's messages (protocol.h) and from
// what the checker finds stored after each kill, with the rules each message must satisfy:
//  - epochs strictly increase (each acquisition above every earlier one, stored or acknowledged);
//  - never two owners (a new acquisition only after the previous holder ended);
//  - a session saves only data it loaded or edited, and never after a newer acquisition (every
//    save it reports is visible to the next acquisition);
//  - a load never returns data older than an acknowledged save (nothing acknowledged is lost).
//    Acknowledged means what the API returned, never what a signal claimed: a Save or
//    EndSession that returned OK acknowledges the data its handle held ("holds"); an Edit that
//    returned OK must be stored when its session ends without reporting unsaved changes ("ended
//    ... 0"), and a final save that succeeded (manual, external, shutdown, rollback) may not
//    report unsaved changes. "saved" (OnAfterSave) only feeds the stale-write checks;
//  - version numbers never go back and a number never names two payloads, across kills
//    (ProfileModel::versions, the shared oracle's VersionLedger);
//  - orphaned locks are taken over with a report naming the dead holder;
//  - a data record the parent damaged is repaired by the next start: quarantined, the newest
//    valid version restored, and that value loaded (ProfileModel::Damage);
//  - a rollback ends the live session, takes a new epoch and makes an old value current again:
//    from then on that value counts as written at the rollback's epoch (ProfileModel::Earlier),
//    and nothing committed under an older epoch may land after it;
//  - acknowledgements carry the status codes their operation allows (operations.h).
#ifndef HOLDFAST_TESTS_CRASH_MODEL_H_
#define HOLDFAST_TESTS_CRASH_MODEL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mailbox.h"
#include "protocol.h"
#include "stored_profile.h"
#include "violations.h"

namespace holdfast::crash {

// Collects violations, also those of the shared oracle (tests/support); prints the first ones as
// they are found.
class Violations final : public test::ViolationSink {
 public:
  void Add(const std::string& what) override;
  void SetContext(std::string context) { context_ = std::move(context); }
  uint64_t count() const { return count_; }

 private:
  std::string context_;
  uint64_t count_ = 0;
};

struct ProfileModel {
  struct Lock {
    uint64_t incarnation = 0;
    uint64_t session_id = 0;
  };
  // Across runs (reset from storage by the checker after each kill).
  std::optional<Tag> floor;    // the newest value known to be stored (in write order)
  bool exists = false;         // known to have a data record
  uint64_t max_epoch = 0;      // newest epoch acquired or stored
  std::optional<Lock> orphan;  // a dead worker's lock, to be taken over
  // Values made current again by a rollback (Tag::Text()) -> the epoch of the latest one.
  std::map<std::string, uint64_t> restored_at;
  // Every version number seen stored and the payload it held; the highest last_version.
  test::VersionLedger versions;
  // The parent damaged the stored data record between kills (Checker::DamageOne). The next start
  // must keep the damaged bytes as a kQuarantine version, restore the newest valid version as a
  // kCorruptionRecovery version right after it, and load that version's value.
  struct Damage {
    int kill = 0;                 // damaged after this kill
    std::string bytes;            // the damaged data record, as written
    uint64_t last_version = 0;    // the profile's last_version then: the repair comes after it
    uint64_t source_version = 0;  // the newest valid version (0: none, the template)
    std::string source_payload;   // its payload: what the repair restores
    Tag restores;
    bool started = false;   // a start returned since: the repair must be stored
    bool rollback = false;  // a rollback began first: it overwrites the record (no start repairs)
  };
  std::optional<Damage> damage;
  // This run only.
  std::map<uint64_t, Tag> loaded;                 // acquisition epoch -> the value it loaded
  // Acquisition epoch -> the data its handle holds by the API's word: the loaded value, then
  // the tag of each Edit that returned OK.
  std::map<uint64_t, Tag> handle_data;
  std::set<std::pair<uint64_t, uint64_t>> edits;  // (epoch, op) of every edit issued
  std::optional<uint64_t> live_epoch;             // the session believed active
  bool orphan_reported = false;
  std::set<std::string> restorable;  // values of rollbacks begun (their outcome may be unknown)
  uint64_t rollback_epoch = 0;       // epoch of the newest acknowledged rollback

  // A value this run may have stored: the floor, a loaded value, an edit or a restored value.
  bool Known(const Tag& t) const;
  // True when a's value was written before b's. Values are ordered by the epoch and operation
  // that wrote them; a restored value is ordered at the epoch of the rollback that restored it.
  bool Earlier(const Tag& a, const Tag& b) const;
  // The newer of two values (either may be absent).
  std::optional<Tag> Newest(const std::optional<Tag>& a, const Tag& b) const;
  // Whether a data record holding `t` and written under `record_epoch` is a rollback's copy: a
  // known one, or one of this run's unacknowledged rollbacks (then learnt).
  bool RestoredBy(const Tag& t, uint64_t record_epoch);
};

class Model {
 public:
  // Profiles "<prefix>p00".."<prefix>p<keys-1>" (and the mailboxes of that prefix).
  Model(int keys, Violations& violations, const std::string& prefix = "");

  // A new worker is about to start: forgets what only that run could change.
  void BeginRun();
  // Several engines share the database (PostgreSQL): a vault account this worker held may have
  // been handed off to another worker's engine, so a trade may fail LockLost (and store nothing).
  void set_shared_database(bool shared) { shared_database_ = shared; }
  // From now until the next BeginRun, the storage may be gone (the database server crashed, or
  // the worker's lease was lost): an operation may fail with any code. A failure acknowledges
  // nothing, so every rule about what is stored still holds; only the allowed codes widen.
  void TolerateFailures() { failures_tolerated_ = true; }
  void Apply(const Message& m);

  std::map<std::string, ProfileModel>& profiles() { return profiles_; }
  uint64_t next_op() const { return next_op_; }
  uint64_t acknowledged() const { return acknowledged_; }
  uint64_t intents() const { return intents_; }
  uint64_t last_incarnation() const { return last_incarnation_; }
  // Messages received, by kind ("acquired", "saved", "orphan", ...).
  const std::map<std::string, uint64_t>& message_counts() const { return counts_; }
  void set_last_incarnation(uint64_t i) { last_incarnation_ = std::max(last_incarnation_, i); }
  MailModel& mail() { return mail_; }

 private:
  ProfileModel* Profile(const std::string& key);
  void Acquired(const std::string& key, uint64_t epoch, const Tag& loaded);
  void Saved(const std::string& key, uint64_t epoch, const Tag& value);
  void RolledBack(const std::string& key, uint64_t epoch, const Tag& restored);
  void Holds(const std::string& key, uint64_t epoch, const Tag& value);
  void Ended(const std::string& key, uint64_t epoch, const std::string& reason, bool unsaved);

  Violations& v_;
  std::map<std::string, ProfileModel> profiles_;
  struct Pending {
    std::string name;
    std::string key;
    std::optional<Tag> tag;  // an edit's new value
  };
  std::map<uint64_t, Pending> pending_;  // op -> the intent
  uint64_t next_op_ = 1;
  uint64_t acknowledged_ = 0;
  uint64_t intents_ = 0;
  uint64_t last_incarnation_ = 0;
  bool shared_database_ = false;
  bool failures_tolerated_ = false;
  std::map<std::string, uint64_t> counts_;
  MailModel mail_;  // the mailboxes' rules (mailbox.h)
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_MODEL_H_
