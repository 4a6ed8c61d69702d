// The file `holdfast export` writes and `holdfast import` reads: JSON lines (one JSON object per
// line, UTF-8, '\n' after each), in three kinds, in this order:
//   1. one header: {"holdfast_export":1,"store":NAME,"codec":CODEC,"schema_base64":B64|null}
//      — the store's registration, so the file can be imported into an empty database;
//   2. one line per profile: {"key":K,"schema_version":N,"user_ids":[..],"metadata":{..},
//      "data":DOC} for a JSON store (the document itself), "data_base64":B64 instead for every
//      other codec (bytes, flatbuffers). A key that is not UTF-8 is "key_base64" instead of
//      "key"; metadata entries that are not UTF-8 go into "metadata_base64" ({B64: B64});
//   3. one trailer: {"holdfast_export_end":COUNT} — the profile count, so a file cut at a line
//      boundary is recognised as truncated.
// Reading is strict: unknown or missing members, a member of the wrong type, a line of the
// wrong kind, a key twice, text after the trailer — each is an error naming the line, and no
// input (however damaged) crashes the reader (fuzz/targets/import_lines.cc).
#ifndef HOLDFAST_CLI_EXPORT_FORMAT_H_
#define HOLDFAST_CLI_EXPORT_FORMAT_H_

#include <cstdint>
#include <functional>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "holdfast/admin.h"
#include "holdfast/engine.h"
#include "holdfast/status.h"

namespace holdfast::cli {

inline constexpr int kExportFormatVersion = 1;
// Longest line the reader accepts: a payload at the hard payload ceiling, in base64, and room.
inline constexpr size_t kMaxExportLineBytes = (size_t{256} << 20) / 3 * 4 + (size_t{1} << 20);

std::string ExportHeaderLine(const StoreRegistration& registration);
// InvalidArgument when a JSON store's payload is not a document (the store's codec refuses it).
Result<std::string> ExportProfileLine(std::string_view codec, const ImportedProfile& profile);
std::string ExportTrailerLine(uint64_t profiles);

struct ExportFile {
  StoreRegistration registration;  // name = the store the file was exported from
  std::vector<ImportedProfile> profiles;
};

// Reads and checks a whole export file. InvalidArgument "line N: what is wrong" for the first
// problem. `progress`, when given, is called with the bytes read so far, now and then.
Result<ExportFile> ReadExportFile(std::istream& in,
                                  const std::function<void(uint64_t bytes)>& progress = nullptr);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_EXPORT_FORMAT_H_
