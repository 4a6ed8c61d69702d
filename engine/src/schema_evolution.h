// Schema evolution: whether a store's flatbuffers schema may replace the one registered in the
// database, so that every payload written with the registered schema reads the same with the
// new one (new fields as their defaults) and nothing stored becomes unreadable or changes
// meaning. Rules (schema/README.md states the same for Holdfast's own records):
//   - the root table and the file identifier stay the same;
//   - a table keeps every field: same id, name, type (and the same referenced table, struct,
//     enum or union, compared recursively), default, optional-ness; a field may become
//     deprecated, never required;
//   - new fields (higher ids) may be added, none of them required (older payloads lack them);
//   - structs never change (size, alignment, fields);
//   - enums and unions keep their underlying type and every value with its name (and, for a
//     union, its member type); values may be appended.
//
// Thread safety: pure functions.
#ifndef HOLDFAST_SRC_SCHEMA_EVOLUTION_H_
#define HOLDFAST_SRC_SCHEMA_EVOLUTION_H_

#include <string_view>

#include "flatbuffer_schema.h"
#include "holdfast/status.h"

namespace holdfast::internal {

// OK when `offered` is a compatible evolution of `registered` (identical included); otherwise
// InvalidArgument naming what is incompatible (up to kMaxReported problems).
Status CheckSchemaEvolution(const FlatbufferSchema& registered, const FlatbufferSchema& offered);

inline constexpr int kMaxReported = 8;

}  // namespace holdfast::internal

#endif  // HOLDFAST_SRC_SCHEMA_EVOLUTION_H_
