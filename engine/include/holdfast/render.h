// Rendering stored payloads as JSON from what the database registered for their store — the
// codec name and, for flatbuffers, the binary schema (Engine::Registration) — without the game's
// code. For the admin CLI's `show` and for tools that inspect a stopped database.
//
//   auto store = engine->Registration("Heroes");
//   auto view = engine->OpenRawStore("Heroes", store->codec, {}, "")->Get("player-42");
//   auto json = holdfast::RenderJson(store->codec, store->schema, view->payload);
//
// Thread safety: a pure function; call it from any thread.
#ifndef HOLDFAST_RENDER_H_
#define HOLDFAST_RENDER_H_

#include <string>
#include <string_view>

#include "holdfast/status.h"

namespace holdfast {

// The payload as JSON text:
//   codec "json"                        the payload itself, once JsonCodec accepts it;
//   codec "flatbuffer:<root table>"     the payload read through `schema` (the registered
//                                       .bfbs): compact JSON, fields in id order, scalars at
//                                       their defaults included (fields added since the payload
//                                       was written show their defaults), enums by name. Floats
//                                       print with flatbuffers' text precision (6 significant
//                                       digits for float, 12 for double): for reading, not for
//                                       re-import.
// Returns:
//   InvalidArgument  codec "bytes" (opaque bytes have no JSON form: show them as hex); an
//                    unknown codec; a flatbuffers codec with no schema (a store only ever opened
//                    at the byte level) or with a schema that is not a usable .bfbs or whose root
//                    table is not the codec's; a payload that is not a JSON document JsonCodec
//                    accepts, that lacks the schema's file identifier, or whose values JSON
//                    cannot hold (a string that is not UTF-8, a float that is NaN or infinite);
//   Corruption       a flatbuffers payload that fails verification against the schema.
Result<std::string> RenderJson(std::string_view codec, std::string_view schema,
                               std::string_view payload);

}  // namespace holdfast

#endif  // HOLDFAST_RENDER_H_
