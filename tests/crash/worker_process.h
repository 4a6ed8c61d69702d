// Starting and reaping a crash-test worker process (worker.h), for both parents (parent.h): the
// RocksDB parent runs one worker at a time, the PostgreSQL parent three at once.
#ifndef HOLDFAST_TESTS_CRASH_WORKER_PROCESS_H_
#define HOLDFAST_TESTS_CRASH_WORKER_PROCESS_H_

#include <sys/types.h>

#include <string>

#include "worker.h"

namespace holdfast::crash {

inline constexpr int kReportFd = 3;  // the worker writes its messages here

struct WorkerProcess {
  pid_t pid = -1;
  int fd = -1;  // the read end of the worker's report pipe
};

// fork()s and at once exec()s `self` as a worker (never runs engine code in the forked copy),
// its stdout and stderr appended to `log`, its reports on a pipe. Aborts when it cannot.
WorkerProcess SpawnWorker(const std::string& self, const WorkerConfig& worker,
                          const std::string& log);

// Waits for the worker to end. Empty when it died of the SIGKILL the parent sent (`killed`);
// otherwise how it ended instead, with the end of its log.
std::string ReapWorker(pid_t pid, bool killed, const std::string& log);

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_WORKER_PROCESS_H_
