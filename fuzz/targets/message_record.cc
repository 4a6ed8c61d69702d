// Fuzz target: MessageRecord values (schema/message_record.fbs, file identifier "HFMS", column
// family `messages`) through DecodeMessageRecord, the one path by which they enter the engine. The
// properties checked are listed in fuzz/record_fuzz.h.
#include "record_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holdfast::internal;
  return holdfast::fuzz::FuzzRecord<MessageRecord>(data, size, DecodeMessageRecord,
                                                   EncodeMessageRecord);
}
