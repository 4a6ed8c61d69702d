#include "pg_cluster.h"

#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace holdfast::crash {

bool RunClusterScript(const std::string& script, const std::string& action,
                      const std::string& dir) {
  std::fflush(stdout);
  const std::string command = "bash '" + script + "' " + action + " '" + dir + "' >&2";
  return std::system(command.c_str()) == 0;
}

Status EndBackends(const std::string& conninfo, const std::string& application_name) {
  using Clock = std::chrono::steady_clock;
  PGconn* conn = PQconnectdb(conninfo.c_str());
  Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = Status::IOError(std::string("connecting: ") + PQerrorMessage(conn));
  } else {
    const char* values[] = {application_name.c_str()};
    const auto began = Clock::now();
    PGresult* r = PQexecParams(conn,
                               "SELECT count(*), count(*) FILTER (WHERE NOT "
                               "pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                               "WHERE application_name = $1",
                               1, nullptr, values, nullptr, nullptr, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      status = Status::IOError(std::string("pg_terminate_backend: ") + PQerrorMessage(conn));
    } else if (std::string_view(PQgetvalue(r, 0, 1)) != "0" &&
               Clock::now() - began >= std::chrono::seconds(10)) {
      // False without the wait means the backend had already exited by itself.
      status = Status::TimedOut(std::string(PQgetvalue(r, 0, 1)) + " of " + PQgetvalue(r, 0, 0) +
                                " backends did not exit within 10 s");
    }
    PQclear(r);
  }
  PQfinish(conn);
  return status;
}

}  // namespace holdfast::crash
