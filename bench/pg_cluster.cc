#include "pg_cluster.h"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace holdfast::bench {
namespace {

// The script's command line for `action` on `dir`; its own output goes to stderr.
std::string ScriptCommand(const std::string& action, const std::string& dir) {
  return "bash '" HOLDFAST_SOURCE_DIR "/scripts/pg-test-cluster.sh' " + action + " '" + dir +
         "' 1>&2";
}

// The running cluster's directory, for StopAtExit: a case that gives up with Fail() exits without
// running destructors, and must not leave a server running.
std::string& RunningDir() {
  static std::string dir;
  return dir;
}

void StopAtExit() {
  if (!RunningDir().empty()) (void)std::system(ScriptCommand("stop", RunningDir()).c_str());
}

}  // namespace

PgCluster::PgCluster(std::string dir)
    : dir_(std::move(dir)), conninfo_("host=" + dir_ + " dbname=postgres user=postgres") {}

std::unique_ptr<PgCluster> PgCluster::Start(const std::string& dir, std::string* error) {
  if (std::system(ScriptCommand("start", dir).c_str()) != 0) {
    *error = "scripts/pg-test-cluster.sh start " + dir + " failed (see its output above)";
    (void)std::system(ScriptCommand("stop", dir).c_str());
    return nullptr;
  }
  static const bool registered = std::atexit(StopAtExit) == 0;
  (void)registered;
  RunningDir() = dir;
  return std::unique_ptr<PgCluster>(new PgCluster(dir));
}

PgCluster::~PgCluster() {
  RunningDir().clear();
  if (std::system(ScriptCommand("stop", dir_).c_str()) != 0) {
    std::fprintf(stderr, "bench: stopping the PostgreSQL cluster in %s failed\n", dir_.c_str());
  }
}

}  // namespace holdfast::bench
