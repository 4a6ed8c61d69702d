#include "pg_holder.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <optional>
#include <vector>

#include "bench_util.h"
#include "holdfast_fixture.h"

extern char** environ;

namespace holdfast::bench {
namespace {

// Longest wait for the previous session's end; only a broken handoff reaches it.
constexpr auto kEndBound = std::chrono::seconds(30);

void Say(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace

std::unique_ptr<HolderProcess> HolderProcess::Spawn(const std::string& self,
                                                    const std::string& conninfo,
                                                    const std::string& key, std::string* error) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  // A holder that died must fail the case, not kill the harness when it writes the next command.
  ::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> arguments{self, "pg-holder", conninfo, key};
  std::vector<char*> argv;
  for (auto& a : arguments) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&files, from_child[1], STDOUT_FILENO);
  std::unique_ptr<HolderProcess> holder(new HolderProcess());
  const int spawned =
      posix_spawn(&holder->pid_, self.c_str(), &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  ::close(to_child[0]);
  ::close(from_child[1]);
  holder->to_ = ::fdopen(to_child[1], "w");
  holder->from_ = ::fdopen(from_child[0], "r");
  if (spawned != 0) {
    holder->pid_ = -1;
    *error = std::string("posix_spawn: ") + std::strerror(spawned);
    return nullptr;
  }
  const std::string ready = holder->Ask("");
  if (ready != "ready") {
    holder->quit_ = true;  // it has exited, or will at the end of its input
    *error = "the holder process did not open its engine: " + ready;
    return nullptr;
  }
  return holder;
}

HolderProcess::~HolderProcess() {
  if (pid_ > 0 && !quit_) (void)Ask("quit");
  if (to_ != nullptr) std::fclose(to_);
  if (from_ != nullptr) std::fclose(from_);
  if (pid_ > 0) {
    int status = 0;
    (void)::waitpid(pid_, &status, 0);
  }
}

std::string HolderProcess::Ask(const std::string& command) {
  if (!command.empty()) {
    if (command == "quit") quit_ = true;
    std::fprintf(to_, "%s\n", command.c_str());
    std::fflush(to_);
  }
  char* line = nullptr;
  size_t capacity = 0;
  const ssize_t length = ::getline(&line, &capacity, from_);
  std::string answer = length > 0 ? std::string(line, static_cast<size_t>(length)) : "";
  std::free(line);
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  return answer;
}

int PgHolderMain(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s pg-holder CONNINFO KEY\n", argv[0]);
    return 2;
  }
  const std::string conninfo = argv[2];
  const std::string key = argv[3];
  EngineOptions options = BenchEngineOptions(/*sync=*/true);
  options.owner_description = "holdfast_bench pg-holder (pid " + std::to_string(::getpid()) + ")";
  auto engine = Engine::Open(conninfo, options);
  if (!engine.ok()) {
    Say("error " + engine.status().ToString());
    return 1;
  }
  StoreOptions<std::string> store_options;
  store_options.autosave = false;  // only the handoffs' final saves commit
  auto store = (*engine)->OpenStore<BytesCodec>(kStoreName, store_options);
  if (!store.ok()) {
    Say("error " + store.status().ToString());
    return 1;
  }

  std::mutex mu;
  std::condition_variable ended_cv;
  bool ended = true;  // no session of KEY yet
  // Waits for the previous session's OnSessionEnd; false after kEndBound.
  auto previous_ended = [&] {
    std::unique_lock lock(mu);
    return ended_cv.wait_for(lock, kEndBound, [&] { return ended; });
  };
  std::optional<Profile<BytesCodec>> held;
  std::string payload;
  FillRandomBytes(&payload, 1024, 11);
  uint64_t round = 0;
  Say("ready");
  std::string command;
  while (std::getline(std::cin, command)) {
    if (command == "quit") break;
    if (command != "hold") {
      Say("error unknown command " + command);
      continue;
    }
    if (!previous_ended()) {
      Say("error the previous session of " + key + " did not end within 30 s");
      continue;
    }
    held.reset();
    {
      std::lock_guard lock(mu);
      ended = false;
    }
    SessionOptions session_options;
    session_options.on_session_end = [&](const SessionEnd&) {
      std::lock_guard lock(mu);
      ended = true;
      ended_cv.notify_all();
    };
    auto started = store->StartSession(key, session_options);
    if (!started.ok()) {
      {
        std::lock_guard lock(mu);
        ended = true;
      }
      Say("error " + started.status().ToString());
      continue;
    }
    StampCounter(&payload, ++round);
    (void)started->Edit([&](std::string& data) { data = payload; });
    held.emplace(std::move(*started));
    Say("held");
  }
  const bool clean = previous_ended();
  Say(clean ? "done" : "done (a session never ended)");
  held.reset();
  const Status closed = (*engine)->Close();
  return closed.ok() ? 0 : 1;
}

}  // namespace holdfast::bench
