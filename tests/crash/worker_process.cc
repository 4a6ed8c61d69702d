#include "worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace holdfast::crash {
namespace {

std::string Tail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  std::string text = all.str();
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace

WorkerProcess SpawnWorker(const std::string& self, const WorkerConfig& worker,
                          const std::string& log) {
  std::vector<std::string> args = WorkerArguments(worker);
  args.insert(args.begin(), self);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    // Only async-signal-safe calls until exec: this process may have engine threads.
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    dup2(fds[1], kReportFd);  // dup2 clears close-on-exec
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  return WorkerProcess{pid, fds[0]};
}

std::string ReapWorker(pid_t pid, bool killed, const std::string& log) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return "";
  std::string how = WIFEXITED(status) ? "exited with code " + std::to_string(WEXITSTATUS(status))
                    : WIFSIGNALED(status) ? "died of signal " + std::to_string(WTERMSIG(status))
                                          : "stopped";
  return "the worker " + how + " before it was killed; its log ends: " + Tail(log, 600);
}

}  // namespace holdfast::crash
