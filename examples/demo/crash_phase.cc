// The demo's side of the crash: start the trading process, wait on its pipe, kill it.
#include "crash_phase.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace holdfast_demo {
namespace {

using holdfast::Result;
using holdfast::Status;

// Longest the trading process may stay silent before the demo gives up on it.
constexpr int kSilenceLimitMs = 60'000;

// Reads the trading process's report pipe line by line.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  ~LineReader() { close(fd_); }

  // The next line; nullopt at end of file. TimedOut after kSilenceLimitMs without a byte.
  Result<std::optional<std::string>> Next() {
    while (true) {
      if (size_t end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return std::optional<std::string>(std::move(line));
      }
      pollfd wait{fd_, POLLIN, 0};
      const int ready = poll(&wait, 1, kSilenceLimitMs);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return Status::TimedOut("the trading process said nothing for 60 s");
      char chunk[4096];
      const ssize_t n = read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::IOError(std::string("reading the pipe: ") + std::strerror(errno));
      if (n == 0) return std::optional<std::string>();  // every writer is gone
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

// Starts this program again as the trading process, reporting on the write end of `pipe_fds`.
Result<pid_t> StartTradingProcess(const DemoConfig& config, const int pipe_fds[2]) {
  // Everything the child needs is built before fork: after it, only exec-safe calls.
  std::vector<std::string> args = {"holdfast-demo",
                                   "--child-trade-phase",
                                   "--db=" + config.db,
                                   "--players=" + std::to_string(config.players),
                                   "--trades=" + std::to_string(config.trades),
                                   "--crash-after=" + std::to_string(config.crash_after),
                                   "--traders=" + std::to_string(config.traders),
                                   "--seed=" + std::to_string(config.seed + 1)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The report pipe becomes fd 3 and survives exec (dup2 clears close-on-exec; when the pipe
    // already is fd 3, clear it by hand).
    if (pipe_fds[1] == kReportFd) {
      fcntl(kReportFd, F_SETFD, 0);
    } else {
      dup2(pipe_fds[1], kReportFd);
    }
    // Undo the demo's blocked stop signals (--keep-running), and die with the demo: a trading
    // process must never outlive it.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for the process to end and says how it ended.
std::string Reap(pid_t pid, int* wait_status) {
  while (waitpid(pid, wait_status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(*wait_status))
    return std::string("killed by ") + strsignal(WTERMSIG(*wait_status));
  return "exited with code " + std::to_string(WEXITSTATUS(*wait_status));
}

}  // namespace

Result<CrashReport> CrashTradingProcess(const DemoConfig& config) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  }
  auto pid = StartTradingProcess(config, pipe_fds);
  close(pipe_fds[1]);  // from here on, end of file means the trading process is gone
  if (!pid.ok()) {
    close(pipe_fds[0]);
    return pid.status();
  }
  CrashReport report;
  report.pid = *pid;
  LineReader reader(pipe_fds[0]);
  bool killed = false;
  std::string failure;
  auto trading_began = std::chrono::steady_clock::now();
  while (true) {
    auto line = reader.Next();
    if (!line.ok()) {
      failure = line.status().ToString();
      break;
    }
    if (!*line) break;  // the pipe closed: the process is gone
    std::istringstream words(**line);
    std::string kind;
    words >> kind;
    if (kind == "ready") {
      words >> report.items_found >> report.trading_since_ms;
      trading_began = std::chrono::steady_clock::now();
    } else if (kind == "trade") {
      // Trader threads report in parallel, so a line may arrive after a higher count.
      uint64_t stored = 0;
      words >> stored;
      report.trades_reported = std::max(report.trades_reported, stored);
      if (!killed && report.trades_reported >= config.crash_after) {
        // The crash: no final saves, no lock releases, trades in flight on every trader thread.
        kill(report.pid, SIGKILL);
        killed = true;
        report.trades_at_kill = report.trades_reported;
        report.trading_ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - trading_began)
                                .count();
      }
    } else if (kind == "error") {
      failure = "the trading process failed: " + (*line)->substr(6);
    }
    // Lines written before the kill landed are still read, so trades_reported ends as the
    // highest count the process reported.
  }
  if (!killed) kill(report.pid, SIGKILL);
  int wait_status = 0;
  const std::string ended = Reap(report.pid, &wait_status);
  if (!failure.empty()) return Status::Internal(failure + " (it " + ended + ")");
  if (!killed) {
    return Status::Internal("the trading process " + ended + " before it was killed");
  }
  if (!WIFSIGNALED(wait_status) || WTERMSIG(wait_status) != SIGKILL) {
    return Status::Internal("the trading process " + ended + ", not by SIGKILL");
  }
  return report;
}

}  // namespace holdfast_demo
