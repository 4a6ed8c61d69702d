// Running the admin CLI in tests, in-process through RunCli and as the real `holdfast` binary,
// and a closed database on disk with known contents for it to work on.
#ifndef HOLDFAST_TESTS_CLI_TEST_UTIL_H_
#define HOLDFAST_TESTS_CLI_TEST_UTIL_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "admin_test_util.h"

namespace holdfast::test {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
  friend bool operator==(const CliRun&, const CliRun&) = default;
};
// For assertion messages: the exit code, stdout and stderr.
std::ostream& operator<<(std::ostream& os, const CliRun& run);

// `holdfast <args>` in this process.
CliRun RunInProcess(std::vector<std::string> args);

// The `holdfast` binary as a child process with `args`, this process's environment without
// HOLDFAST_DB, plus `environment` ("NAME=value"); its exit code (-1 if it did not exit), stdout
// and stderr. With `as_user`, the child runs as that user (and group of the same number): the
// caller must be root.
CliRun RunBinary(const std::vector<std::string>& args,
                 const std::vector<std::string>& environment = {},
                 std::optional<uid_t> as_user = std::nullopt);

// The `holdfast` binary as a child whose stderr is a pseudo-terminal (as a person at a terminal
// runs it) and whose stdout is a file: its exit code, stdout, and everything it drew on the
// terminal as `err` (the terminal turns "\n" into "\r\n").
CliRun RunBinaryOnTerminal(const std::vector<std::string>& args);

// The database the CLI tests read, all written on the fake clock from 2026-01-01T00:00:00Z:
//   Players (bytes, template "new"): alice   v1 create "new" at +0 s, v2 "gold=10" at +1 s,
//                                            v3 "gold=20" at +2 s;
//                                    bob     v1 create at +2 s, v2 "gold=5" at +3 s;
//                                    carol   v1 create at +4 s, locked by "admin-test-server"
//                                            (left by a server that is gone).
//   Guilds  (bytes): red v1 create at +3 s, v2 "members=3" at +4 s.
// It is a checkpoint taken while carol's session was live, so carol's lock is an orphan, as
// after a crash. The engine is closed afterwards: the CLI can open `db_`.
class CliFixture : public AdminFixture {
 protected:
  void SetUp() override;
  // Reopens `db_` in the fixture's engine (to damage it or read it back), or closes it.
  void OpenDatabase();
  // Every record of every family of `db_` except the manifest (which each open rewrites), for
  // "nothing changed" checks of commands that open the database. Opens and closes `db_`.
  std::map<std::string, std::string> Records();

  std::string db_;
};

}  // namespace holdfast::test

#endif  // HOLDFAST_TESTS_CLI_TEST_UTIL_H_
