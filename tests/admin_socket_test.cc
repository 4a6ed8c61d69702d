// The admin socket (EngineOptions::admin_socket) and AdminClient, in-process: the socket file
// (owner-only, removed at close, a stale one replaced), a client sees what Admin sees and its
// writes go through the session lock, garbage and oversized frames get an error and change
// nothing, a peer of another user is refused, the limits, and the read-only open of a held
// database.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "admin_frame.h"
#include "admin_test_util.h"
#include "holdfast/admin_client.h"
#include "internals.h"

namespace holdfast::test {
namespace {

using internal::AdminFrameHeader;
using internal::AdminOp;
using internal::AdminRequest;
using internal::DecodeAdminResponse;
using internal::ReadAdminFrameHeader;

class AdminSocketTest : public AdminFixture {
 protected:
  void SetUp() override {
    AdminFixture::SetUp();
    players_.emplace(OpenPlayers());
    WriteHistory(*players_, "alice", {"gold=10", "gold=20"});
    WriteHistory(*players_, std::string("n\0ll", 4), {"zero"});
    ReopenWithSocket();
  }

  void ReopenWithSocket(AdminSocketLimits limits = {}) {
    CloseEngine();
    EngineOptions options = Options();
    options.admin_socket = true;
    options.admin_socket_limits = limits;
    auto engine = Engine::Open(path_, options);
    ASSERT_OK(engine);
    engine_ = std::move(*engine);
    players_.emplace(OpenPlayers());
  }

  std::string SocketPath() const { return path_ + "/" + std::string(kAdminSocketName); }

  // A raw connection to the socket (this process is the server's user).
  int Connect() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, SocketPath().c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0)
        << std::strerror(errno);
    return fd;
  }

  std::map<std::string, std::string> Records() { return RecordsOf(*engine_); }

  std::optional<Store<BytesCodec>> players_;
};

// Writes all of `bytes`; reads one answer frame (or "" when the server closed first).
std::string Exchange(int fd, const std::string& bytes) {
  if (!bytes.empty()) {
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  auto read_exactly = [&](size_t size) {
    std::string out(size, '\0');
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::recv(fd, out.data() + got, size - got, 0);
      if (n <= 0) return std::string();
      got += static_cast<size_t>(n);
    }
    return out;
  };
  const std::string header = read_exactly(internal::kAdminFrameHeaderBytes);
  if (header.empty()) return "";
  return read_exactly(ReadAdminFrameHeader(header.data()));
}

std::string Framed(const std::string& body) { return AdminFrameHeader(body.size()) + body; }

std::string StoresRequest() {
  AdminRequest request;
  request.op = AdminOp::kStores;
  return Framed(internal::EncodeAdminRequest(request));
}

// True once the server closed `fd` (recv returns 0), reading anything before.
bool ClosedByServer(int fd) {
  char byte;
  for (int i = 0; i < 1'000'000; ++i) {
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
  return false;
}

TEST_F(AdminSocketTest, TheSocketIsOwnerOnlyAndRemovedAtClose) {
  struct stat st{};
  ASSERT_EQ(::lstat(SocketPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CloseEngine();
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
  EXPECT_CODE(AdminClient::Connect(path_), kNotFound);
}

TEST_F(AdminSocketTest, AStaleSocketIsReplacedAndAFileInTheWayRefused) {
  CloseEngine();
  {  // What a crashed server leaves: a socket file nobody listens on.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, SocketPath().c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::close(fd);
  }
  EXPECT_CODE(AdminClient::Connect(path_), kNotFound);  // refused: nobody answers
  ReopenWithSocket();
  auto client = AdminClient::Connect(path_);
  ASSERT_OK(client);
  EXPECT_OK((*client)->Stores());

  CloseEngine();
  { std::ofstream(SocketPath()) << "not a socket"; }
  EngineOptions options = Options();
  options.admin_socket = true;
  auto refused = Engine::Open(path_, options);
  ASSERT_CODE(refused, kIOError);
  EXPECT_NE(refused.status().message().find("not a socket is in the way"), std::string::npos)
      << refused.status();
  options.admin_socket = false;
  auto without = Engine::Open(path_, options);
  EXPECT_OK(without);
}

TEST_F(AdminSocketTest, AClientSeesWhatAdminSees) {
  auto client = AdminClient::Connect(path_);
  ASSERT_OK(client);
  Admin admin(*engine_);
  auto stores = (*client)->Stores();
  ASSERT_OK(stores);
  ASSERT_EQ(stores->size(), 1u);
  EXPECT_EQ((*stores)[0].name, "Players");
  EXPECT_EQ((*stores)[0].versions, admin.Stores()->at(0).versions);
  auto info = (*client)->Info();
  ASSERT_OK(info);
  EXPECT_EQ(info->path, path_);
  EXPECT_EQ(info->incarnation, engine_->Info().incarnation);

  const std::string null_key("n\0ll", 4);
  auto details = (*client)->Inspect("Players", null_key);
  ASSERT_OK(details);
  EXPECT_EQ(details->view.payload, "zero");
  EXPECT_EQ(details->view.version.version, admin.Inspect("Players", null_key)->view.version.version);
  auto old = (*client)->Inspect("Players", "alice", 2);
  ASSERT_OK(old);
  EXPECT_EQ(old->view.payload, "gold=10");
  auto versions = (*client)->Versions("Players", "alice");
  ASSERT_OK(versions);
  EXPECT_EQ(versions->size(), 3u);
  ProfileQuery query;
  query.limit = 1;
  auto page = (*client)->Profiles("Players", query);
  ASSERT_OK(page);
  EXPECT_EQ(page->profiles.size(), 1u);
  EXPECT_TRUE(page->more);
  auto report = (*client)->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->records, admin.Verify()->records);
  // An error travels with its code and message.
  auto missing = (*client)->Inspect("Players", "nobody");
  ASSERT_CODE(missing, kNotFound);
  EXPECT_EQ(missing.status().message(), admin.Inspect("Players", "nobody").status().message());
}

TEST_F(AdminSocketTest, AClientGetsTheRunningEnginesLiveCounters) {
  auto holder = players_->StartSession("alice");
  ASSERT_OK(holder);
  ASSERT_OK(holder->Edit([](std::string& d) { d = "gold=77"; }));
  ASSERT_OK(holder->Save());
  auto client = AdminClient::Connect(path_);
  ASSERT_OK(client);
  auto stats = (*client)->Stats();
  ASSERT_OK(stats);
  const EngineStats here = engine_->Stats();
  EXPECT_EQ(stats->active_sessions, 1u);
  EXPECT_EQ(stats->saves, here.saves);
  EXPECT_EQ(stats->starts, here.starts);
  EXPECT_EQ(stats->bytes_written, here.bytes_written);
  EXPECT_GE(stats->saves, 1u);
  EXPECT_EQ(stats->save_latency.count, here.save_latency.count);
  EXPECT_EQ(stats->save_latency.max_us, here.save_latency.max_us);
  EXPECT_EQ(stats->start_latency.count, here.start_latency.count);
  EXPECT_FALSE(stats->critical);
  ASSERT_OK(holder->EndSession());
}

TEST_F(AdminSocketTest, WritesThroughTheSocketGoThroughTheSessionLock) {
  auto holder = players_->StartSession("alice");
  ASSERT_OK(holder);
  std::optional<SessionEnd> end;
  holder->OnSessionEnd([&](const SessionEnd& e) { end = e; });
  ASSERT_OK(holder->Edit([](std::string& d) { d = "gold=99"; }));
  auto client = AdminClient::Connect(path_);
  ASSERT_OK(client);

  auto edited = (*client)->Edit("Players", "alice", "gold=1");
  ASSERT_OK(edited);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->reason, EndReason::kAdmin);
  EXPECT_CODE(holder->Save(), kLockLost);
  EXPECT_EQ(players_->Get("alice")->data, "gold=1");
  EXPECT_EQ(players_->Get("alice", *edited - 1)->data, "gold=99");  // the final save

  auto again = players_->StartSession("alice");
  ASSERT_OK(again);
  auto released = (*client)->Release("Players", "alice");
  ASSERT_OK(released);
  EXPECT_EQ(*released, ReleaseOutcome::kEnded);
  EXPECT_CODE(again->Save(), kLockLost);
  auto rolled = (*client)->Rollback("Players", "alice", 2);
  ASSERT_OK(rolled);
  EXPECT_EQ(players_->Get("alice")->data, "gold=10");
  ASSERT_OK((*client)->Message("Players", "alice", "gift"));
  EXPECT_EQ(Admin(*engine_).Verify()->messages, 1u);
  ASSERT_OK((*client)->Erase("Players", "alice"));
  EXPECT_CODE(players_->Get("alice"), kNotFound);
}

TEST_F(AdminSocketTest, GarbageGetsAClearErrorAndChangesNothing) {
  const auto before = Records();
  const int fd = Connect();
  // A whole frame of garbage: an error answer, and the connection stays usable.
  auto answer = DecodeAdminResponse(Exchange(fd, Framed("GET / HTTP/1.1\r\n\r\n")));
  ASSERT_OK(answer);
  EXPECT_EQ(answer->status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(answer->status.message().find("not a valid admin frame"), std::string::npos)
      << answer->status;
  EXPECT_NE(answer->status.message().find("nothing was changed"), std::string::npos);
  // A response where a request belongs, a truncated request.
  internal::AdminResponse response;
  EXPECT_EQ(DecodeAdminResponse(Exchange(fd, Framed(internal::EncodeAdminResponse(response))))
                ->status.code(),
            StatusCode::kInvalidArgument);
  AdminRequest edit;
  edit.op = AdminOp::kEdit;
  edit.store = "Players";
  edit.key = "alice";
  edit.payload = "clobbered";
  const std::string body = internal::EncodeAdminRequest(edit);
  EXPECT_EQ(DecodeAdminResponse(Exchange(fd, Framed(body.substr(0, body.size() - 9))))
                ->status.code(),
            StatusCode::kInvalidArgument);
  auto stores = DecodeAdminResponse(Exchange(fd, StoresRequest()));
  ASSERT_OK(stores);
  EXPECT_OK(stores->status);
  EXPECT_EQ(stores->stores.size(), 1u);
  // A length over the frame limit: an error, then the server closes the connection.
  auto too_long = DecodeAdminResponse(Exchange(fd, std::string("\xff\xff\xff\xff", 4)));
  ASSERT_OK(too_long);
  EXPECT_EQ(too_long->status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(too_long->status.message().find("a frame of 4294967295 bytes"), std::string::npos)
      << too_long->status;
  EXPECT_TRUE(ClosedByServer(fd));
  ::close(fd);
  EXPECT_EQ(Records(), before);
  auto client = AdminClient::Connect(path_);  // the server serves on
  ASSERT_OK(client);
  EXPECT_OK((*client)->Stores());
}

TEST_F(AdminSocketTest, TheLimitsCloseSlowAndSurplusConnections) {
  AdminSocketLimits limits;
  limits.max_connections = 1;
  limits.io_timeout = std::chrono::milliseconds(1000);
  ReopenWithSocket(limits);
  const int first = Connect();
  ASSERT_EQ(::send(first, "\x10\x00", 2, MSG_NOSIGNAL), 2);  // half a header, then nothing
  const int second = Connect();
  auto surplus = DecodeAdminResponse(Exchange(second, ""));  // refused before any request
  ASSERT_OK(surplus);
  EXPECT_EQ(surplus->status.code(), StatusCode::kResourceExhausted) << surplus->status;
  ::close(second);
  EXPECT_TRUE(ClosedByServer(first));  // io_timeout: the rest of the frame never came
  ::close(first);
  auto client = AdminClient::Connect(path_);
  ASSERT_OK(client);
  EXPECT_OK((*client)->Stores());
}

// The tests run as root: a child that becomes `nobody` is a peer of another user.
TEST_F(AdminSocketTest, APeerOfAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  constexpr uid_t kNobody = 65534;
  // As created (0600, root's): `nobody` cannot even connect.
  // Opened up, the socket still checks who connects (SO_PEERCRED).
  const std::string request = StoresRequest();
  sockaddr_un address{};  // prepared before the fork: the child must not allocate
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, SocketPath().c_str(), sizeof(address.sun_path) - 1);
  auto run_as_nobody = [&](std::string* answer) -> int {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    const pid_t child = ::fork();
    if (child == 0) {  // only async-signal-safe calls from here
      ::close(out[0]);
      if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(10);
      const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        ::_exit(errno == EACCES ? 11 : 12);
      }
      (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
      char buffer[4096];
      ssize_t n;
      while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) (void)::write(out[1], buffer, n);
      ::_exit(0);
    }
    ::close(out[1]);
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(out[0], buffer, sizeof(buffer))) > 0) answer->append(buffer, n);
    ::close(out[0]);
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0711), 0);
  std::string denied;
  EXPECT_EQ(run_as_nobody(&denied), 11);  // EACCES: the file is owner-only

  const auto before = Records();
  ASSERT_EQ(::chmod(SocketPath().c_str(), 0666), 0);
  std::string refused;
  ASSERT_EQ(run_as_nobody(&refused), 0);
  ASSERT_GE(refused.size(), internal::kAdminFrameHeaderBytes);
  auto answer = DecodeAdminResponse(refused.substr(internal::kAdminFrameHeaderBytes));
  ASSERT_OK(answer);
  EXPECT_EQ(answer->status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(answer->status.message().find("not uid 65534"), std::string::npos) << answer->status;
  EXPECT_EQ(Records(), before);
}

TEST_F(AdminSocketTest, ADatabaseWhosePathIsTooLongForSunPathStillServes) {
  CloseEngine();
  const std::string deep = dir_.Sub(std::string(120, 'd'));
  EngineOptions options = Options();
  options.admin_socket = true;
  auto engine = Engine::Open(deep, options);
  ASSERT_OK(engine);
  ASSERT_GT((deep + "/holdfast.sock").size(), sizeof(sockaddr_un::sun_path));
  EXPECT_TRUE(std::filesystem::exists(deep + "/holdfast.sock"));
  auto client = AdminClient::Connect(deep);
  ASSERT_OK(client);
  auto info = (*client)->Info();
  ASSERT_OK(info);
  EXPECT_EQ(info->path, deep);
  client->reset();
  EXPECT_OK((*engine)->Close());
  EXPECT_FALSE(std::filesystem::exists(deep + "/holdfast.sock"));
}

TEST_F(AdminSocketTest, AReadOnlyOpenReadsADatabaseAnotherEngineHolds) {
  EngineOptions options = Options(/*create=*/false);
  options.read_only = true;
  auto reader = Engine::Open(path_, options);
  ASSERT_OK(reader);
  EXPECT_CODE((*reader)->OpenStore<BytesCodec>("Players"), kInvalidArgument);
  Admin admin(**reader);
  auto details = admin.Inspect("Players", "alice");
  ASSERT_OK(details);
  EXPECT_EQ(details->view.payload, "gold=20");
  EXPECT_EQ((*reader)->Info().incarnation, engine_->Info().incarnation);
  EXPECT_CODE(admin.Rollback("Players", "alice", 2), kInvalidArgument);
  EXPECT_CODE(admin.Checkpoint(dir_.Sub("copy")), kInvalidArgument);
  EXPECT_OK((*reader)->Close());
  EXPECT_EQ(players_->Get("alice")->data, "gold=20");  // the holder is unaffected
}

}  // namespace
}  // namespace holdfast::test
