// Fuzz target: export files as `holdfast import` reads them (cli/export_format.h) — JSON lines
// from a file an operator hands over, so anything at all. Checked:
//  - ReadExportFile returns a file or InvalidArgument naming a line (or the whole file), never
//    crashes, never another code;
//  - a file that reads has unique, valid keys, and written back with the export's own line
//    writers it reads again to the same registration and profiles, field by field, and writes
//    the same bytes a second time.
#include <cstdint>
#include <sstream>
#include <string>

#include "export_format.h"
#include "fuzz_util.h"
#include "holdfast/limits.h"

namespace {

using namespace holdfast;
using namespace holdfast::cli;

std::string WriteBack(const ExportFile& file) {
  std::string out = ExportHeaderLine(file.registration) + "\n";
  for (const ImportedProfile& profile : file.profiles) {
    auto line = ExportProfileLine(file.registration.codec, profile);
    FUZZ_CHECK(line.ok(), line.status().ToString());
    out += *line + "\n";
  }
  return out + ExportTrailerLine(file.profiles.size()) + "\n";
}

Result<ExportFile> Read(const std::string& bytes) {
  std::istringstream in(bytes);
  return ReadExportFile(in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto file = Read(bytes);
  if (!file.ok()) {
    FUZZ_CHECK(file.status().code() == StatusCode::kInvalidArgument, file.status().ToString());
    return 0;
  }
  FUZZ_CHECK(!file->registration.codec.empty() && !file->registration.name.empty(), "");
  for (size_t i = 0; i < file->profiles.size(); ++i) {
    FUZZ_CHECK(ValidateProfileKey(file->profiles[i].key).ok(), file->profiles[i].key);
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(file->profiles[i].key != file->profiles[j].key, "");
  }
  const std::string written = WriteBack(*file);
  auto again = Read(written);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  FUZZ_CHECK(again->registration.name == file->registration.name, "");
  FUZZ_CHECK(again->registration.codec == file->registration.codec, "");
  FUZZ_CHECK(again->registration.schema == file->registration.schema, "");
  FUZZ_CHECK(again->profiles.size() == file->profiles.size(), "");
  for (size_t i = 0; i < file->profiles.size(); ++i) {
    const ImportedProfile& a = file->profiles[i];
    const ImportedProfile& b = again->profiles[i];
    FUZZ_CHECK(a.key == b.key && a.payload == b.payload && a.schema_version == b.schema_version &&
                   a.user_ids == b.user_ids && a.metadata == b.metadata,
               holdfast::fuzz::Printable(a.key));
  }
  FUZZ_CHECK(WriteBack(*again) == written, "");
  return 0;
}
