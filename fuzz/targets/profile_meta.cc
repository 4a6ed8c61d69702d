// Fuzz target: ProfileMeta values (schema/profile_meta.fbs, file identifier "HFPM", column family
// `meta`) through DecodeProfileMeta, the one path by which they enter the engine. The properties
// checked are listed in fuzz/record_fuzz.h.
#include "record_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holdfast::internal;
  return holdfast::fuzz::FuzzRecord<ProfileMeta>(data, size, DecodeProfileMeta, EncodeProfileMeta);
}
