// What the crash-test worker tells the parent, and what it stores in profiles.
//
// Messages are text lines on a pipe, each written with one write(2) (atomic below PIPE_BUF), so a
// SIGKILL never leaves half a message: the parent sees every line written before the kill.
//
//   hello <incarnation>                       the engine opened
//   open-failed <code> <text>                 Engine::Open or OpenStore failed
//   intent <op> <name> <key> [<tag>]          about to run operation <op> (edits carry the new tag)
//   ack <op> <code>                           the operation returned
//   acquired <key> <epoch> <session> <tag>    a start succeeded and loaded <tag>
//   saved <key> <epoch> <tag>                 a commit wrote <tag> (any save: explicit, auto, final)
//   holds <key> <epoch> <tag>                 Save or EndSession returned OK; the handle held <tag>
//   ended <key> <epoch> <reason> <unsaved>    a session ended (OnSessionEnd)
//   orphan <key> <incarnation> <session>      a start took over a lock left by a dead engine
//   orphan-other <store>/<key> <inc> <session>  the same in another store (the vault, mail)
//   vault-<reason>                            a vault account's session ended (OnSessionEnd)
//   lease-lost                                the engine lost its lease (PostgreSQL)
//   violation <text>                          the worker saw an invariant broken in-process
//   unexpected <code> <text>                  a call the worker checks returned <code>, which it
//                                             must not (a violation unless storage was gone)
//   paused <text>                             the worker stopped at its kill point; kill it now
//   budget                                    the worker ran all its operations; kill it now
//
// Payloads name their writer: "<key>.<epoch>.<op>|<n>|<n filler bytes>", where <epoch> is the
// session that made the edit and <op> the edit operation's number. The template is "template".
// A payload is checked whole (length and filler), so a torn or mixed-up value is caught even
// before the record checksum.
#ifndef HOLDFAST_TESTS_CRASH_PROTOCOL_H_
#define HOLDFAST_TESTS_CRASH_PROTOCOL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace holdfast::crash {

inline constexpr char kStore[] = "Players";
inline constexpr char kTemplate[] = "template";

// The trade workload: accounts of a second store holding an item count (decimal text; the
// template is kItemsPerAccount). Items only ever move between accounts by Engine::Trade, so the
// stored total is kVaultAccounts * kItemsPerAccount after every kill.
inline constexpr char kVault[] = "Vault";
inline constexpr int kVaultAccounts = 6;
inline constexpr int kItemsPerAccount = 100;
std::string VaultKey(int i);  // "v0".."v5"
// The item count a vault payload holds; nullopt when it is not a non-negative decimal.
std::optional<int64_t> ParseItems(std::string_view payload);

// Which value a payload is. Values of one profile are ordered by (epoch, op): a session's edits
// follow the data it loaded, and a later session's edits follow those of every earlier one.
struct Tag {
  std::string key;
  uint64_t epoch = 0;  // 0 for the template
  uint64_t op = 0;     // 0 for the template
  bool is_template() const { return epoch == 0; }
  std::string Text() const;  // "<key>.<epoch>.<op>" or "template"
  friend bool operator==(const Tag&, const Tag&) = default;
};
// True when a's value must come before b's in commit order (the template comes first).
bool Before(const Tag& a, const Tag& b);

std::string MakePayload(const Tag& tag, size_t filler_bytes);
// nullopt when the bytes are not a whole, well-formed payload of this test.
std::optional<Tag> ParsePayload(std::string_view payload);
std::optional<Tag> ParseTag(std::string_view text);

// One parsed message line.
struct Message {
  std::string kind;                // "hello", "intent", ...
  std::vector<std::string> words;  // the rest, split on spaces (text messages: one word)
};
std::optional<Message> ParseMessage(std::string_view line);

// Writes lines to the parent's pipe. Thread-safe (engine threads report saves and ends).
class Reporter {
 public:
  explicit Reporter(int fd) : fd_(fd) {}
  void Send(const std::string& line);  // appends the newline; one write(2)

 private:
  int fd_;
};

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_PROTOCOL_H_
