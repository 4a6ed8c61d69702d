// A throwaway PostgreSQL cluster for the benchmark's PostgreSQL cases: started with
// scripts/pg-test-cluster.sh (initdb and pg_ctl, as the `postgres` user when run as root; Unix
// socket only, in the cluster's directory; fsync off) and stopped and removed when the handle
// goes (or, when the harness exits through Fail(), at exit). Holdfast and the raw libpq baseline
// both use its `postgres` database.
//
// Thread safety: a handle is used from the thread that made it.
#ifndef HOLDFAST_BENCH_PG_CLUSTER_H_
#define HOLDFAST_BENCH_PG_CLUSTER_H_

#include <memory>
#include <string>

namespace holdfast::bench {

class PgCluster {
 public:
  // Starts a cluster in `dir` (which the script creates, owns and removes). nullptr, with the
  // reason in *error, when the server binaries are missing or the cluster does not start.
  static std::unique_ptr<PgCluster> Start(const std::string& dir, std::string* error);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // A libpq key=value connection string for the cluster's `postgres` database as `postgres`.
  const std::string& conninfo() const { return conninfo_; }

 private:
  explicit PgCluster(std::string dir);

  std::string dir_;
  std::string conninfo_;
};

}  // namespace holdfast::bench

#endif  // HOLDFAST_BENCH_PG_CLUSTER_H_
