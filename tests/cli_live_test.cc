// The real `holdfast` binary against a live engine in another process — a game server
// (live_server_helper.cc) holding sessions on the CliFixture database — through its admin
// socket: rollback, edit and release end the live session properly and fence it; a peer of
// another user and a frame of garbage are refused and change nothing; without a socket, read
// commands fall back to a read-only open and say so, and writes are refused; export reads
// through the socket, import is refused there.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "admin_frame.h"
#include "cli_test_util.h"

extern char** environ;

namespace holdfast::test {
namespace {

// The helper process: started with its keys, talked to over its stdin and stdout.
class LiveServer {
 public:
  LiveServer(const std::string& db, const std::vector<std::string>& keys, bool socket = true) {
    int in[2];
    int out[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    std::vector<std::string> arguments{HOLDFAST_LIVE_SERVER_BINARY, db};
    if (!socket) arguments.push_back("--no-socket");
    arguments.insert(arguments.end(), keys.begin(), keys.end());
    std::vector<char*> argv;
    for (auto& a : arguments) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_adddup2(&files, in[0], 0);
    posix_spawn_file_actions_adddup2(&files, out[1], 1);
    const int spawned = posix_spawn(&pid_, HOLDFAST_LIVE_SERVER_BINARY, &files, nullptr,
                                    argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    EXPECT_EQ(spawned, 0) << std::strerror(spawned);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    Expect("ready");
  }

  ~LiveServer() {
    Send("quit");
    std::string line = ReadLine();
    while (line.starts_with("ended ") && line.ends_with(" shutdown")) line = ReadLine();
    EXPECT_EQ(line, "closed OK");
    ::close(to_);
    ::close(from_);
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }

  void Send(const std::string& line) {
    const std::string text = line + "\n";
    EXPECT_EQ(::write(to_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  // The next line the server printed; a bounded wait (a stuck server fails the test, never
  // hangs it).
  std::string ReadLine() {
    for (;;) {
      if (size_t end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      pollfd ready{from_, POLLIN, 0};
      if (::poll(&ready, 1, 60'000) <= 0) return "(no line within 60 s)";
      char chunk[256];
      const ssize_t n = ::read(from_, chunk, sizeof(chunk));
      if (n <= 0) return "(the server's output ended)";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Expect(const std::string& line) { EXPECT_EQ(ReadLine(), line); }

 private:
  pid_t pid_ = 0;
  int to_ = -1;
  int from_ = -1;
  std::string buffer_;
};

class CliLiveTest : public CliFixture {
 protected:
  CliRun Cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--db", db_});
    return RunBinary(args);
  }
};

TEST_F(CliLiveTest, RollbackThroughTheSocketEndsTheLiveSessionAndTheOldHolderCanNeverWrite) {
  LiveServer server(db_, {"alice"});
  server.Send("edit alice gold=99");
  server.Expect("edit alice OK");
  // alice: 1 create, 2 gold=10, 3 gold=20; 4 the live session's final save; 5 the rollback.
  EXPECT_EQ(Cli({"rollback", "Players", "alice", "--to", "2", "--yes"}),
            (CliRun{0, "rolled back Players/alice to version 2: written as version 5\n", ""}));
  server.Expect("ended alice rollback");
  server.Send("save alice");
  server.Expect("save alice LockLost");
  CliRun versions = Cli({"versions", "Players", "alice", "--limit", "2", "--json"});
  EXPECT_EQ(versions.code, 0) << versions;
  EXPECT_NE(versions.out.find(R"({"version":5,)"), std::string::npos) << versions.out;
  EXPECT_NE(versions.out.find(R"("reason":"rollback",)"), std::string::npos) << versions.out;
  EXPECT_NE(versions.out.find(R"("source_version":2,)"), std::string::npos) << versions.out;
  EXPECT_NE(versions.out.find(R"({"version":4,)"), std::string::npos) << versions.out;
  EXPECT_NE(versions.out.find(R"("reason":"end-session")"), std::string::npos) << versions.out;
  CliRun kept = Cli({"show", "Players", "alice", "--version", "4"});
  EXPECT_NE(kept.out.find("|gold=99|"), std::string::npos) << kept;
  CliRun now = Cli({"show", "Players", "alice", "--json"});
  EXPECT_NE(now.out.find(R"("data":"676f6c643d3130")"), std::string::npos) << now;  // gold=10
  EXPECT_NE(now.out.find(R"("lock":null)"), std::string::npos) << now;
}

TEST_F(CliLiveTest, EditThroughTheSocketEndsTheLiveSessionAndWritesAnAdminVersion) {
  LiveServer server(db_, {"alice"});
  server.Send("edit alice gold=99");
  server.Expect("edit alice OK");
  CliRun refused = Cli({"edit", "Players", "alice", "--data", "gold=7"});
  EXPECT_EQ(refused.code, 2) << refused;  // without --yes, before anything is sent
  EXPECT_EQ(Cli({"edit", "Players", "alice", "--data", "gold=7", "--yes"}),
            (CliRun{0, "edited Players/alice: written as version 5\n", ""}));
  server.Expect("ended alice admin");
  server.Send("save alice");
  server.Expect("save alice LockLost");
  CliRun now = Cli({"show", "Players", "alice"});
  EXPECT_NE(now.out.find("(admin, "), std::string::npos) << now;
  EXPECT_NE(now.out.find("|gold=7|"), std::string::npos) << now;
  EXPECT_NE(now.out.find("lock           free"), std::string::npos) << now;
  CliRun saved = Cli({"show", "Players", "alice", "--version", "4"});
  EXPECT_NE(saved.out.find("|gold=99|"), std::string::npos) << saved;
  CliRun missing = Cli({"edit", "Players", "nobody", "--data", "x", "--yes"});
  EXPECT_EQ(missing, (CliRun{1, "", "holdfast edit: NotFound: no profile 'nobody'\n"}));
}

TEST_F(CliLiveTest, ExportReadsThroughTheSocketAndImportIsRefusedWithNothingChanged) {
  LiveServer server(db_, {"alice"});
  server.Send("edit alice gold=99");
  server.Expect("edit alice OK");
  server.Send("save alice");
  server.Expect("save alice OK");
  const std::string file = dir_.Sub("players.jsonl");
  CliRun exported = Cli({"export", "Players", "--out", file});
  ASSERT_EQ(exported.code, 0) << exported;
  std::ifstream in(file);
  const std::string lines((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(lines.find(R"({"key":"alice","schema_version":0,"user_ids":[],"metadata":{},"data_base64":"Z29sZD05OQ=="})"),
            std::string::npos)
      << lines;  // what the live session saved
  CliRun show = Cli({"show", "Players", "alice"});
  CliRun imported = Cli({"import", "Players", "--in", file, "--yes"});
  EXPECT_EQ(imported.code, 1) << imported;
  EXPECT_NE(imported.err.find("stop the server and run the import again; nothing was imported"),
            std::string::npos)
      << imported;
  EXPECT_EQ(Cli({"show", "Players", "alice"}), show);  // the live session was left alone
  server.Send("save alice");
  server.Expect("save alice OK");
}

TEST_F(CliLiveTest, StatsShowTheServersLiveCounters) {
  LiveServer server(db_, {"alice", "bob"});
  server.Send("edit alice gold=99");
  server.Expect("edit alice OK");
  server.Send("save alice");
  server.Expect("save alice OK");
  CliRun json = Cli({"stats", "--json"});
  ASSERT_EQ(json.code, 0) << json;
  EXPECT_NE(json.out.find(R"("live":{"active_sessions":2,"starts":2,"saves":1,)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.out.find(R"("save_latency":{"count":1,)"), std::string::npos) << json;
  CliRun text = Cli({"stats"});
  EXPECT_NE(text.out.find("live saves "), std::string::npos) << text;
  EXPECT_NE(text.out.find("live save latency "), std::string::npos) << text;
}

TEST_F(CliLiveTest, ReleaseEndsTheLiveSessionWithAFinalSave) {
  LiveServer server(db_, {"bob"});
  server.Send("edit bob gold=6");
  server.Expect("edit bob OK");
  CliRun sessions = Cli({"sessions", "Players", "--json"});
  EXPECT_EQ(sessions.code, 0) << sessions;
  EXPECT_NE(sessions.out.find(R"("key":"bob","epoch":2,"owner":"live-test-server",)"),
            std::string::npos)
      << sessions.out;
  EXPECT_NE(sessions.out.find(R"("orphaned":false)"), std::string::npos) << sessions.out;
  EXPECT_EQ(sessions.err, "");
  EXPECT_EQ(Cli({"release", "Players", "bob", "--yes"}),
            (CliRun{0, "released Players/bob: its live session made its final save and ended\n",
                    ""}));
  server.Expect("ended bob admin");
  server.Send("save bob");
  server.Expect("save bob LockLost");
  CliRun now = Cli({"show", "Players", "bob", "--json"});
  EXPECT_NE(now.out.find(R"("reason":"end-session")"), std::string::npos) << now;
  EXPECT_NE(now.out.find(R"("data":"676f6c643d36")"), std::string::npos) << now;  // gold=6
  EXPECT_NE(now.out.find(R"("lock":null)"), std::string::npos) << now;
  CliRun again = Cli({"release", "Players", "bob", "--yes"});
  EXPECT_EQ(again.code, 1);
  EXPECT_EQ(again.err,
            "holdfast release: NotFound: profile 'bob' is not held by any session\n");
}

// The tests run as root: `nobody` (65534) is a peer of another user.
TEST_F(CliLiveTest, TheSocketRefusesAPeerOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  constexpr uid_t kNobody = 65534;
  LiveServer server(db_, {"alice"});
  const std::string socket = db_ + "/holdfast.sock";
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(db_.c_str(), 0711), 0);
  // As created, owner-only: another user cannot even connect.
  CliRun denied = RunBinary({"rollback", "Players", "alice", "--to", "2", "--yes", "--db", db_},
                            {}, kNobody);
  EXPECT_EQ(denied.code, 1) << denied;
  EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied;
  // Opened up, the server still checks who connected (SO_PEERCRED).
  ASSERT_EQ(::chmod(socket.c_str(), 0666), 0);
  CliRun refused = RunBinary({"rollback", "Players", "alice", "--to", "2", "--yes", "--db", db_},
                             {}, kNobody);
  EXPECT_EQ(refused,
            (CliRun{1, "",
                    "holdfast rollback: InvalidArgument: the admin socket serves only root and "
                    "the server's user (uid 0), not uid 65534; nothing was changed\n"}));
  server.Send("save alice");
  server.Expect("save alice OK");  // still the holder: nothing happened
  CliRun versions = Cli({"versions", "Players", "alice", "--limit", "1", "--json"});
  EXPECT_NE(versions.out.find(R"([{"version":3,)"), std::string::npos) << versions;
}

TEST_F(CliLiveTest, AFrameOfGarbageGetsAClearErrorAndChangesNothing) {
  LiveServer server(db_, {"alice"});
  auto snapshot = [&] {
    return Cli({"show", "Players", "alice", "--json"}).out + Cli({"verify", "--json"}).out +
           Cli({"sessions", "--json"}).out;
  };
  const std::string before = snapshot();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, (db_ + "/holdfast.sock").c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string garbage = "rollback Players alice --to 1 --yes";  // not a flatbuffer
  const std::string frame = internal::AdminFrameHeader(garbage.size()) + garbage;
  ASSERT_EQ(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(frame.size()));
  std::string answer;
  char chunk[4096];
  for (int i = 0; i < 100'000; ++i) {  // until one whole frame arrived
    if (answer.size() >= 4 &&
        answer.size() >= 4 + internal::ReadAdminFrameHeader(answer.data())) {
      break;
    }
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    answer.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  ASSERT_GE(answer.size(), 4u);
  auto response = internal::DecodeAdminResponse(answer.substr(4));
  ASSERT_OK(response);
  EXPECT_EQ(response->status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(response->status.message(),
            "not a valid admin frame: wrong file identifier (expected HFAF); nothing was changed");
  EXPECT_EQ(snapshot(), before);
  server.Send("save alice");
  server.Expect("save alice OK");
}

TEST_F(CliLiveTest, WithoutASocketReadsFallBackToAReadOnlyOpenAndWritesAreRefused) {
  LiveServer server(db_, {"alice"}, /*socket=*/false);
  CliRun stores = Cli({"stores"});
  EXPECT_EQ(stores.code, 0) << stores;
  EXPECT_NE(stores.out.find("Players  bytes  3         2       6 "), std::string::npos) << stores;
  EXPECT_EQ(stores.err,
            "holdfast stores: the database is held by a running process and no admin socket "
            "answers; reading it read-only, as of now (what live sessions have not saved is not "
            "in it)\n");
  CliRun show = Cli({"show", "Players", "alice", "--json"});
  EXPECT_EQ(show.code, 0) << show;
  EXPECT_NE(show.out.find(R"("owner":"live-test-server",)"), std::string::npos) << show;
  EXPECT_NE(show.out.find(R"("orphaned":false)"), std::string::npos) << show;
  CliRun rollback = Cli({"rollback", "Players", "alice", "--to", "2", "--yes"});
  EXPECT_EQ(rollback.code, 1) << rollback;
  EXPECT_EQ(rollback.out, "");
  EXPECT_NE(rollback.err.find("is already open"), std::string::npos) << rollback;
  EXPECT_NE(rollback.err.find("no admin socket answers"), std::string::npos) << rollback;
  EXPECT_NE(rollback.err.find("nothing was changed"), std::string::npos) << rollback;
  server.Send("save alice");
  server.Expect("save alice OK");  // the holder never noticed
}

}  // namespace
}  // namespace holdfast::test
