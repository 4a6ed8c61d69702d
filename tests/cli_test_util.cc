#include "cli_test_util.h"

#include <fcntl.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include "command.h"
#include "internals.h"

extern char** environ;

namespace holdfast::test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The arguments of a `holdfast` child, program name first.
std::vector<std::string> ChildArguments(const std::vector<std::string>& args) {
  std::vector<std::string> arguments{HOLDFAST_CLI_BINARY};
  arguments.insert(arguments.end(), args.begin(), args.end());
  return arguments;
}

// This process's environment without HOLDFAST_DB, plus `environment`.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& environment) {
  std::vector<std::string> variables = environment;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "HOLDFAST_DB=", 12) != 0) variables.emplace_back(*e);
  }
  return variables;
}

// Pointers to `strings` and a null, for exec.
std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const CliRun& run) {
  return os << "exit " << run.code << "\n--- stdout ---\n"
            << run.out << "--- stderr ---\n"
            << run.err;
}

CliRun RunInProcess(std::vector<std::string> args) {
  std::ostringstream out;
  std::ostringstream err;
  args.insert(args.begin(), "holdfast");
  const int code = cli::RunCli(args, {out, err});
  return {code, out.str(), err.str()};
}

CliRun RunBinary(const std::vector<std::string>& args,
                 const std::vector<std::string>& environment, std::optional<uid_t> as_user) {
  TempDir io;
  const std::string out_path = io.Sub("stdout");
  const std::string err_path = io.Sub("stderr");
  std::vector<std::string> arguments = ChildArguments(args);
  std::vector<std::string> variables = ChildEnvironment(environment);
  std::vector<char*> argv = Pointers(arguments);
  std::vector<char*> envp = Pointers(variables);

  pid_t pid = 0;
  if (as_user) {
    // fork + exec, to change user in between (posix_spawn cannot): from the fork on, the child
    // makes only async-signal-safe calls on what was prepared above.
    pid = ::fork();
    if (pid == 0) {
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
      if (::setgid(*as_user) != 0 || ::setuid(*as_user) != 0) ::_exit(126);
      ::execve(HOLDFAST_CLI_BINARY, argv.data(), envp.data());
      ::_exit(127);
    }
    if (pid < 0) {
      ADD_FAILURE() << "fork failed: " << std::strerror(errno);
      return {};
    }
  } else {
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&files, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    const int spawned =
        posix_spawn(&pid, HOLDFAST_CLI_BINARY, &files, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    if (spawned != 0) {
      ADD_FAILURE() << "cannot run " << HOLDFAST_CLI_BINARY << ": " << std::strerror(spawned);
      return {};
    }
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) ADD_FAILURE() << "waitpid failed";
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out_path), ReadFile(err_path)};
}

CliRun RunBinaryOnTerminal(const std::vector<std::string>& args) {
  TempDir io;
  const std::string out_path = io.Sub("stdout");
  std::vector<std::string> arguments = ChildArguments(args);
  std::vector<std::string> variables = ChildEnvironment({});
  std::vector<char*> argv = Pointers(arguments);
  std::vector<char*> envp = Pointers(variables);
  int terminal = -1;
  int child_side = -1;
  if (::openpty(&terminal, &child_side, nullptr, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "openpty failed: " << std::strerror(errno);
    return {};
  }
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&files, child_side, 2);
  posix_spawn_file_actions_addclose(&files, terminal);
  posix_spawn_file_actions_addclose(&files, child_side);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, HOLDFAST_CLI_BINARY, &files, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  ::close(child_side);
  if (spawned != 0) {
    ::close(terminal);
    ADD_FAILURE() << "cannot run " << HOLDFAST_CLI_BINARY << ": " << std::strerror(spawned);
    return {};
  }
  // Until the child's side closes (read fails with EIO): what the child drew on its stderr.
  std::string drawn;
  char buffer[4096];
  for (ssize_t n; (n = ::read(terminal, buffer, sizeof buffer)) > 0;) drawn.append(buffer, n);
  ::close(terminal);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) ADD_FAILURE() << "waitpid failed";
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadFile(out_path), drawn};
}

void CliFixture::SetUp() {
  AdminFixture::SetUp();
  auto players = OpenPlayers();
  auto guilds = engine_->OpenStore<BytesCodec>("Guilds");
  ASSERT_OK(guilds);
  WriteHistory(players, "alice", {"gold=10", "gold=20"});
  WriteHistory(players, "bob", {"gold=5"});
  WriteHistory(*guilds, "red", {"members=3"});
  auto carol = players.StartSession("carol");
  ASSERT_OK(carol);
  db_ = dir_.Sub("cli-db");
  ASSERT_OK(Admin(*engine_).Checkpoint(db_));
  ASSERT_OK(carol->EndSession());
  CloseEngine();
}

void CliFixture::OpenDatabase() {
  auto engine = Engine::Open(db_, Options(/*create=*/false));
  ASSERT_OK(engine);
  engine_ = std::move(*engine);
}

std::map<std::string, std::string> CliFixture::Records() {
  OpenDatabase();
  std::map<std::string, std::string> records;
  if (engine_) records = RecordsOf(*engine_);
  CloseEngine();
  return records;
}

}  // namespace holdfast::test
