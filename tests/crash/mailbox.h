// The crash test's message workload (issue 13): mailboxes of a third store receive messages
// ("<op>", the sending operation's number) with Store::Message; a live mailbox session's handler
// appends the number to its data ("<op>,<op>,...") and calls processed(), so the message's removal
// is stored with the edit it caused. Mailboxes are also erased with Store::Remove.
//
// Rules the parent checks after every kill (MailModel), from the stored data and the waiting
// messages of each mailbox:
//  - exactly-once effect: no number is both applied (in the data) and still waiting, and none is
//    applied twice;
//  - nothing acknowledged is lost: every send that returned OK since the mailbox's last erase is
//    applied or waiting (also after a power loss: those runs sync every write);
//  - nothing appears from nowhere: every number was sent by a send operation;
//  - erasure is whole and final: nothing sent before an acknowledged erase survives it, and an
//    erase cut by the kill left either everything or nothing.
#ifndef HOLDFAST_TESTS_CRASH_MAILBOX_H_
#define HOLDFAST_TESTS_CRASH_MAILBOX_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "holdfast/holdfast.h"
#include "protocol.h"
#include "record_reader.h"
#include "violations.h"

namespace holdfast::crash {

inline constexpr char kMail[] = "Mail";
inline constexpr int kMailboxes = 4;
// "<prefix>m0".."<prefix>m3": on PostgreSQL each worker slot has its own mailboxes (parent.h).
std::string MailboxKey(const std::string& prefix, int i);

// Worker side: the Mail store and the mailbox sessions this process holds.
class MailWorkload {
 public:
  // `start_timeout`: how long a start of a mailbox this process does not hold may wait
  // (Worker::ForeignStartTimeout).
  explicit MailWorkload(std::string prefix = "",
                        std::chrono::milliseconds start_timeout = std::chrono::milliseconds(0))
      : prefix_(std::move(prefix)), start_timeout_(start_timeout) {}
  // Opens the Mail store on a newly opened engine (with the Players store's timing options).
  Status Open(Engine& engine, StoreOptions<std::string> options);
  // Forgets the store and the sessions (the engine was closed: its final saves ran).
  void Drop();
  std::string RandomMailbox(std::mt19937_64& rng) const;

  Status Send(const std::string& mailbox, uint64_t op);
  // Starts a session on the mailbox unless this process holds it; its handler applies messages.
  Status Start(const std::string& mailbox);
  // Ends this process's session of the mailbox, if any (OK otherwise).
  Status End(const std::string& mailbox);
  // Store::Remove; a live session here is fenced by it and forgotten.
  Status Erase(const std::string& mailbox);

 private:
  std::string prefix_;
  std::chrono::milliseconds start_timeout_;
  std::optional<Store<BytesCodec>> store_;
  std::map<std::string, Profile<BytesCodec>> live_;
};

// Parent side: what was sent and acknowledged, and the rules above.
class MailModel {
 public:
  explicit MailModel(std::string prefix = "") : prefix_(std::move(prefix)) {}
  // Intents and acknowledgements of mail operations (others are ignored).
  void Apply(const Message& m);
  // A new worker starts: operations of the dead one that never returned stay possible.
  void BeginRun();
  // After a kill, on the closed database: checks every mailbox and takes what is stored as the
  // new baseline.
  void Check(test::RecordReader& raw, test::ViolationSink& v);
  uint64_t checks() const { return checks_; }
  uint64_t applied_seen() const { return applied_seen_; }
  uint64_t erases_seen() const { return erases_seen_; }

 private:
  struct Box {
    std::set<uint64_t> expected;         // must be applied or waiting
    uint64_t erased_before = 0;          // nothing sent before this op may survive
    std::optional<uint64_t> erasing;     // an erase without its acknowledgement
  };
  std::string prefix_;
  std::map<std::string, Box> boxes_;
  std::set<uint64_t> sent_;  // every send intent
  // op -> (name, mailbox) of mail operations without an acknowledgement yet.
  std::map<uint64_t, std::pair<std::string, std::string>> pending_;
  uint64_t checks_ = 0;
  uint64_t applied_seen_ = 0;
  uint64_t erases_seen_ = 0;
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_MAILBOX_H_
