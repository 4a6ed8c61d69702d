// `holdfast verify [--store S]`: reads and checks every record and version; lists the damaged
// ones and exits 1 if there are any. A progress bar on a terminal when it runs offline.
#include <ostream>

#include "database_command.h"
#include "fields.h"
#include "holdfast/admin.h"
#include "progress.h"
#include "text_output.h"

namespace holdfast::cli {
namespace verify_command {

constexpr char kHelp[] =
    R"(Read and check every record of the database (or of one store): each profile's meta and
data records and every version, against their checksums and formats; a flatbuffers store's
registered schema, and its payloads against that schema; keys that are malformed or belong to no
store or profile; versions listed but missing; and RocksDB's file checksums. Lists what is
damaged; exit 1 if anything is.)";

void AddVerifyOptions(cxxopts::Options& options) {
  options.add_options()("store", "check only store S", cxxopts::value<std::string>(), "S");
}

Json DamageJson(const DamagedRecord& d) {
  Json object = {{"store", d.store}};
  AddKey(object, d.key);
  object["record"] = d.record;
  object["version"] = d.version;
  object["reason"] = d.reason;
  return object;
}

Json ReportJson(const VerifyReport& report) {
  return {{"ok", report.ok()},
          {"stores", report.stores},
          {"profiles", report.profiles},
          {"versions", report.versions},
          {"messages", report.messages},
          {"records", report.records},
          {"damaged", JsonArray(report.damaged, DamageJson)}};
}

void PrintReport(std::ostream& out, const VerifyReport& report) {
  for (const DamagedRecord& d : report.damaged) {
    out << "damaged " << d.record;
    // The manifest and a file have no store or key (a store's registered schema in the manifest
    // has no key); a malformed key has no store.
    if (!d.key.empty()) {
      out << " " << d.store << "/" << Printable(d.key);
    } else if (!d.store.empty()) {
      out << " " << d.store;
    }
    if (d.version != 0) out << " version " << d.version;
    out << ": " << d.reason << "\n";
  }
  out << "checked " << report.stores << " store(s), " << report.profiles << " profile(s), "
      << report.versions << " version(s), " << report.messages << " message(s), " << report.records
      << " record(s): " << report.damaged.size() << " damaged\n";
}

// A bar of the profiles checked, on a terminal, when the check runs here: through a running
// server's socket it is one request with one answer, so there is nothing to show meanwhile.
Result<VerifyReport> VerifyWithProgress(AdminService& service, const std::string& store,
                                        const Invocation& call) {
  auto* admin = dynamic_cast<Admin*>(&service);
  if (admin == nullptr || !ProgressBar::Wanted(call.json, call.io.err)) {
    return service.Verify(store);
  }
  uint64_t total = 0;
  if (auto stores = admin->Stores(); stores.ok()) {
    for (const StoreSummary& summary : *stores) {
      if (store.empty() || summary.name == store) total += summary.profiles;
    }
  }
  ProgressBar progress(call.io.err, "verify", total, "profiles", true);
  auto report = admin->Verify(store, [&](uint64_t checked) { progress.Set(checked); });
  progress.Done();
  return report;
}

Status Verify(AdminService& admin, const Invocation& call) {
  const std::string store = call.args.count("store") ? call.args["store"].as<std::string>() : "";
  auto report = VerifyWithProgress(admin, store, call);
  if (!report.ok()) return report.status();
  if (call.json) {
    PrintJson(call.io.out, ReportJson(*report));
  } else {
    PrintReport(call.io.out, *report);
  }
  if (report->ok()) return Status::Ok();
  return Status::Corruption(std::to_string(report->damaged.size()) + " damaged record(s) found");
}

}  // namespace verify_command

std::unique_ptr<Command> MakeVerifyCommand() {
  using namespace verify_command;
  return MakeDatabaseCommand({.name = "verify",
                              .summary = "check every record and version",
                              .description = kHelp,
                              .options = AddVerifyOptions,
                              .run = Verify});
}

}  // namespace holdfast::cli
