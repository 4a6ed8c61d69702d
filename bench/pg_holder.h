// The other process of the cross-process handoff case: this program run as
//   holdfast_bench pg-holder CONNINFO KEY
// opens an engine of its own on the PostgreSQL database (sync on, the store "Players" with
// auto-save off) and holds KEY when told to, so that the harness's engine, in its own process,
// can take the profile from it through the database (release request, NOTIFY, final save,
// NOTIFY back). Commands on stdin, one answer line each on stdout:
//   hold -> "held" once it holds KEY with a changed 1 KiB payload, or "error <status>"
//   quit -> "done", then it closes its engine and exits
// Both wait first (up to 30 s) for its previous session of KEY to have ended (its final save
// made, its OnSessionEnd run).
#ifndef HOLDFAST_BENCH_PG_HOLDER_H_
#define HOLDFAST_BENCH_PG_HOLDER_H_

#include <sys/types.h>

#include <cstdio>
#include <memory>
#include <string>

namespace holdfast::bench {

// The harness's side: the holder process and its two pipes.
class HolderProcess {
 public:
  // Starts `self` as the holder and waits for it to say it is ready. nullptr (with *error) when
  // it cannot be started or its engine does not open.
  static std::unique_ptr<HolderProcess> Spawn(const std::string& self, const std::string& conninfo,
                                              const std::string& key, std::string* error);
  // Asks it to quit if it still runs, and waits for it to exit.
  ~HolderProcess();
  HolderProcess(const HolderProcess&) = delete;
  HolderProcess& operator=(const HolderProcess&) = delete;

  // Sends one command line and returns the answer line ("" when the process is gone).
  std::string Ask(const std::string& command);

 private:
  HolderProcess() = default;

  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  bool quit_ = false;
};

// The holder's side: `holdfast_bench pg-holder CONNINFO KEY`.
int PgHolderMain(int argc, char** argv);

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_PG_HOLDER_H_
