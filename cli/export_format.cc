#include "export_format.h"

#include <limits>
#include <map>
#include <optional>
#include <set>

#include "base64.h"
#include "holdfast/json_codec.h"
#include "holdfast/limits.h"
#include "json_output.h"
#include "text_output.h"

namespace holdfast::cli {
namespace {

using Parsed = nlohmann::json;  // lines as read (members sorted: order does not matter)

constexpr std::string_view kHeaderMember = "holdfast_export";
constexpr std::string_view kTrailerMember = "holdfast_export_end";

// Puts `bytes` under `name` when it is UTF-8, else base64 under `name`_base64.
void AddBytes(Json& object, const std::string& name, std::string_view bytes) {
  if (IsUtf8(bytes)) {
    object[name] = bytes;
  } else {
    object[name + "_base64"] = Base64Encode(bytes);
  }
}

// One line of the file. Every string in it was checked to be UTF-8 (or came from a parser that
// checks), so the replacement handler never fires: it is there so that no bytes can throw.
std::string Dump(const Json& line) {
  return line.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

Status LineError(uint64_t line, const std::string& what) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + what +
                                 "; nothing was imported");
}

// One line as a JSON object, nesting checked before the parser sees it. "" when fine.
std::string ParseObject(std::string_view line, Parsed* object) {
  if (line.empty()) return "an empty line";
  if (JsonCodec::NestingDepth(line) > JsonCodec::kMaxDepth + 2) {
    return "nested deeper than " + std::to_string(JsonCodec::kMaxDepth) + " levels";
  }
  *object = Parsed::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (object->is_discarded()) return "not valid JSON (malformed or cut short)";
  if (!object->is_object()) return "not a JSON object";
  return "";
}

// "" when every member of `object` is one of `allowed`.
std::string UnknownMember(const Parsed& object, const std::set<std::string_view>& allowed) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!allowed.contains(it.key())) return "unknown member \"" + it.key() + "\"";
  }
  return "";
}

// Exactly one of `name` (a string) and `name`_base64; its bytes, or the problem in `*error`.
std::optional<std::string> ReadBytes(const Parsed& object, const std::string& name,
                                     std::string* error) {
  const bool plain = object.contains(name);
  const bool encoded = object.contains(name + "_base64");
  if (plain == encoded) {
    *error = "needs exactly one of \"" + name + "\" and \"" + name + "_base64\"";
    return std::nullopt;
  }
  const Parsed& value = object[plain ? name : name + "_base64"];
  if (!value.is_string()) {
    *error = "\"" + name + (plain ? "" : "_base64") + "\" is not a string";
    return std::nullopt;
  }
  if (plain) return value.get<std::string>();
  auto bytes = Base64Decode(value.get_ref<const std::string&>());
  if (!bytes) *error = "\"" + name + "_base64\" is not valid base64";
  return bytes;
}

Result<StoreRegistration> ParseHeader(const Parsed& header, uint64_t line) {
  if (!header.contains(kHeaderMember)) {
    return LineError(line, "not an export header (the file must start with one)");
  }
  if (std::string unknown =
          UnknownMember(header, {kHeaderMember, "store", "codec", "schema_base64"});
      !unknown.empty()) {
    return LineError(line, unknown);
  }
  const Parsed& format = header[kHeaderMember];
  if (!format.is_number_integer() || format.get<int64_t>() != kExportFormatVersion) {
    return LineError(line, "export format " + format.dump() + " is not one this build reads (" +
                               std::to_string(kExportFormatVersion) + ")");
  }
  StoreRegistration registration;
  for (const char* name : {"store", "codec"}) {
    if (!header.contains(name) || !header[name].is_string() ||
        header[name].get_ref<const std::string&>().empty()) {
      return LineError(line, std::string("the header's \"") + name + "\" is missing or not a string");
    }
  }
  registration.name = header["store"].get<std::string>();
  registration.codec = header["codec"].get<std::string>();
  if (header.contains("schema_base64") && !header["schema_base64"].is_null()) {
    const Parsed& schema = header["schema_base64"];
    auto bytes = schema.is_string() ? Base64Decode(schema.get_ref<const std::string&>())
                                    : std::nullopt;
    if (!bytes) return LineError(line, "\"schema_base64\" is not a base64 string or null");
    registration.schema = std::move(*bytes);
  }
  return registration;
}

Result<ImportedProfile> ParseProfile(const Parsed& object, std::string_view codec,
                                     uint64_t line) {
  const bool json_store = codec == JsonCodec::kName;
  if (std::string unknown =
          UnknownMember(object, {"key", "key_base64", "schema_version", "user_ids", "metadata",
                                 "metadata_base64", json_store ? "data" : "data_base64"});
      !unknown.empty()) {
    return LineError(line, unknown + (object.contains("data") || object.contains("data_base64")
                                          ? " (a store of codec '" + std::string(codec) + "')"
                                          : ""));
  }
  ImportedProfile profile;
  std::string error;
  auto key = ReadBytes(object, "key", &error);
  if (!key) return LineError(line, error);
  profile.key = std::move(*key);
  if (Status s = ValidateProfileKey(profile.key); !s.ok()) return LineError(line, s.message());

  const Parsed* data = nullptr;
  if (json_store) {
    if (!object.contains("data")) return LineError(line, "no \"data\"");
    auto encoded = JsonCodec::Encode(object["data"]);
    if (!encoded.ok()) return LineError(line, "\"data\": " + encoded.status().message());
    profile.payload = std::move(*encoded);
  } else {
    if (!object.contains("data_base64")) return LineError(line, "no \"data_base64\"");
    data = &object["data_base64"];
    auto bytes = data->is_string() ? Base64Decode(data->get_ref<const std::string&>())
                                   : std::nullopt;
    if (!bytes) return LineError(line, "\"data_base64\" is not a base64 string");
    profile.payload = std::move(*bytes);
  }

  if (object.contains("schema_version")) {
    const Parsed& version = object["schema_version"];
    if (!version.is_number_unsigned() ||
        version.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      return LineError(line, "\"schema_version\" is not a whole number from 0 to 4294967295");
    }
    profile.schema_version = version.get<uint32_t>();
  }
  if (object.contains("user_ids")) {
    const Parsed& ids = object["user_ids"];
    if (!ids.is_array()) return LineError(line, "\"user_ids\" is not an array");
    for (const Parsed& id : ids) {
      if (!id.is_number_integer() ||
          (id.is_number_unsigned() &&
           id.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()})) {
        return LineError(line, "a user id is not a 64-bit whole number: " + id.dump());
      }
      profile.user_ids.push_back(id.get<int64_t>());
    }
  }
  for (const char* name : {"metadata", "metadata_base64"}) {
    if (!object.contains(name)) continue;
    const Parsed& entries = object[name];
    if (!entries.is_object()) return LineError(line, std::string("\"") + name + "\" is not an object");
    const bool encoded = std::string_view(name) == "metadata_base64";
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (!it.value().is_string()) {
        return LineError(line, std::string("a value of \"") + name + "\" is not a string");
      }
      std::optional<std::string> entry_key = it.key();
      std::optional<std::string> value = it.value().get<std::string>();
      if (encoded) {
        entry_key = Base64Decode(*entry_key);
        value = Base64Decode(*value);
        if (!entry_key || !value) return LineError(line, "\"metadata_base64\" holds invalid base64");
      }
      if (!profile.metadata.emplace(std::move(*entry_key), std::move(*value)).second) {
        return LineError(line, "a metadata key comes twice");
      }
    }
  }
  return profile;
}

}  // namespace

std::string ExportHeaderLine(const StoreRegistration& registration) {
  Json header = {{kHeaderMember, kExportFormatVersion},
                 {"store", registration.name},
                 {"codec", registration.codec},
                 {"schema_base64", registration.schema.empty()
                                       ? Json()
                                       : Json(Base64Encode(registration.schema))}};
  return Dump(header);
}

Result<std::string> ExportProfileLine(std::string_view codec, const ImportedProfile& profile) {
  Json line = Json::object();
  AddBytes(line, "key", profile.key);
  line["schema_version"] = profile.schema_version;
  line["user_ids"] = profile.user_ids;
  Json metadata = Json::object();
  Json metadata_base64 = Json::object();
  for (const auto& [name, value] : profile.metadata) {
    if (IsUtf8(name) && IsUtf8(value)) {
      metadata[name] = value;
    } else {
      metadata_base64[Base64Encode(name)] = Base64Encode(value);
    }
  }
  line["metadata"] = std::move(metadata);
  if (!metadata_base64.empty()) line["metadata_base64"] = std::move(metadata_base64);
  if (codec == JsonCodec::kName) {
    auto document = JsonCodec::Decode(profile.payload);
    if (!document.ok()) {
      return document.status().WithContext("profile '" + Printable(profile.key) + "'");
    }
    line["data"] = Json(*document);
  } else {
    line["data_base64"] = Base64Encode(profile.payload);
  }
  return Dump(line);
}

std::string ExportTrailerLine(uint64_t profiles) {
  return Dump(Json{{kTrailerMember, profiles}});
}

Result<ExportFile> ReadExportFile(std::istream& in,
                                  const std::function<void(uint64_t bytes)>& progress) {
  ExportFile file;
  std::map<std::string, uint64_t> key_lines;
  std::optional<uint64_t> trailer_line;
  uint64_t bytes_read = 0;
  std::string text;
  for (uint64_t line = 1; std::getline(in, text); ++line) {
    if (in.eof()) return LineError(line, "the file ends inside this line (truncated)");
    bytes_read += text.size() + 1;
    if (progress && line % 256 == 0) progress(bytes_read);
    if (trailer_line) return LineError(line, "text after the export's end line");
    if (text.size() > kMaxExportLineBytes) return LineError(line, "longer than any export line");
    Parsed object;
    if (std::string problem = ParseObject(text, &object); !problem.empty()) {
      return LineError(line, problem);
    }
    if (line == 1) {
      auto registration = ParseHeader(object, line);
      if (!registration.ok()) return registration.status();
      file.registration = std::move(*registration);
      continue;
    }
    if (object.contains(kHeaderMember)) {
      return LineError(line, "a second export header (a profile line or the end line belongs here)");
    }
    if (object.contains(kTrailerMember)) {
      const Parsed& count = object[kTrailerMember];
      if (object.size() != 1 || !count.is_number_unsigned() ||
          count.get<uint64_t>() != file.profiles.size()) {
        return LineError(line, "the end line says " + count.dump() + " profiles, the file has " +
                                   std::to_string(file.profiles.size()));
      }
      trailer_line = line;
      continue;
    }
    auto profile = ParseProfile(object, file.registration.codec, line);
    if (!profile.ok()) return profile.status();
    auto [at, fresh] = key_lines.emplace(profile->key, line);
    if (!fresh) {
      return LineError(line, "key '" + Printable(profile->key) + "' is already on line " +
                                 std::to_string(at->second));
    }
    file.profiles.push_back(std::move(*profile));
  }
  if (in.bad()) return Status::IOError("reading the export file failed; nothing was imported");
  if (key_lines.empty() && file.registration.codec.empty()) {
    return Status::InvalidArgument("the file is empty: not an export; nothing was imported");
  }
  if (!trailer_line) {
    return Status::InvalidArgument("the file ends without the export's end line (truncated); "
                                   "nothing was imported");
  }
  if (progress) progress(bytes_read);
  return file;
}

}  // namespace holdfast::cli
