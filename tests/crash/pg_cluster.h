// The PostgreSQL crash test's (parent_postgres.cc) dealings with its throwaway server: starting,
// crashing, resuming and stopping it, and ending the server connections a killed worker left.
#ifndef HOLDFAST_TESTS_CRASH_PG_CLUSTER_H_
#define HOLDFAST_TESTS_CRASH_PG_CLUSTER_H_

#include <string>

#include "holdfast/status.h"

namespace holdfast::crash {

// Runs `script` (scripts/pg-test-cluster.sh) with `action` (start, crash, resume, stop) on the
// cluster in `dir`; its output goes to stderr. False when it fails.
bool RunClusterScript(const std::string& script, const std::string& action,
                      const std::string& dir);

// Ends every server backend of the connections named `application_name` and waits (in the
// server: pg_terminate_backend's timeout, 10 s) until each has exited, so that whatever a dead
// worker's connection was still doing (a COMMIT it sent just before the kill) is committed or
// rolled back for good. IOError when the server cannot be asked; TimedOut when one stays.
Status EndBackends(const std::string& conninfo, const std::string& application_name);

}  // namespace holdfast::crash

#endif  // HOLDFAST_TESTS_CRASH_PG_CLUSTER_H_
