// FlatbufferSchema::VerifyPayload: a payload checked against its schema before anything reads it.
//
// Holdfast verifies payloads itself, driven by the schema, with flatbuffers::Verifier's bounds
// primitives, rather than with flatbuffers::Verify (reflection.cpp). In 2.0.8 that function
// reads a union's type byte and value offset before checking that they lie inside the buffer
// (fields are visited in name order, so "companion" comes before "companion_type"), and a
// damaged payload crashes it: fuzz/corpus/schema_render/regress-union-read-before-verify. It
// also checks vectors' alignment to 4 bytes only, and structs inside unions not at all, so a
// vector of 8-byte numbers at a 4-byte boundary passes it and reading one is undefined
// behaviour. Here every byte is bounds-checked before it is read, and elements are checked for
// the alignment their type needs (up to 8 bytes: buffers are 8-byte aligned copies).
#include <flatbuffers/reflection_generated.h>

#include <algorithm>
#include <string>

#include "flatbuffer_schema.h"

namespace holdfast {
namespace {

using flatbuffers::uoffset_t;
using flatbuffers::voffset_t;
using reflection::BaseType;

bool IsScalar(BaseType t) { return t >= reflection::UType && t <= reflection::Double; }

class PayloadVerifier {
 public:
  PayloadVerifier(const FlatbufferSchema& schema, const uint8_t* buffer, size_t size)
      : schema_(schema), buffer_(buffer), verifier_(buffer, size, Limits()) {}

  bool Root() {
    const uoffset_t root = verifier_.VerifyOffset(size_t{0});
    return root != 0 && Table(schema_.root(), buffer_ + root);
  }

 private:
  static flatbuffers::Verifier::Options Limits() {
    flatbuffers::Verifier::Options limits;
    limits.max_depth = FlatbufferSchema::kMaxPayloadDepth;
    limits.max_tables = FlatbufferSchema::kMaxPayloadTables;
    return limits;
  }

  static bool Aligned(size_t offset, size_t align) {
    return offset % std::min<size_t>(align, 8) == 0;
  }
  size_t OffsetOf(const uint8_t* p) const { return static_cast<size_t>(p - buffer_); }

  // The target of the offset stored at `at` (an offset into the buffer), or null when it does
  // not lie inside the buffer.
  const uint8_t* Follow(size_t at) const {
    const uoffset_t o = verifier_.VerifyOffset(at);
    return o == 0 ? nullptr : buffer_ + at + o;
  }

  // A table's field, by slot, once its vtable has been checked: the target of its offset, or
  // null when absent. `ok` turns false when the offset points outside the buffer.
  const uint8_t* Pointer(const flatbuffers::Table& table, voffset_t slot, bool* ok) const {
    const voffset_t field = table.GetOptionalFieldOffset(slot);
    if (field == 0) return nullptr;
    const uint8_t* target = Follow(OffsetOf(reinterpret_cast<const uint8_t*>(&table)) + field);
    if (target == nullptr) *ok = false;
    return target;
  }

  bool Scalar(const flatbuffers::Table& table, voffset_t slot, size_t size) const {
    switch (size) {
      case 1:
        return table.VerifyField<uint8_t>(verifier_, slot, 1);
      case 2:
        return table.VerifyField<uint16_t>(verifier_, slot, 2);
      case 4:
        return table.VerifyField<uint32_t>(verifier_, slot, 4);
      default:
        return table.VerifyField<uint64_t>(verifier_, slot, 8);
    }
  }

  bool Table(const reflection::Object& object, const uint8_t* at) {
    const auto& table = *reinterpret_cast<const flatbuffers::Table*>(at);
    if (!table.VerifyTableStart(verifier_)) return false;  // counts depth and tables
    for (const reflection::Field* f : *object.fields()) {
      const voffset_t slot = f->offset();
      if (f->required() && table.GetOptionalFieldOffset(slot) == 0) return false;
      if (!Field(*f, table, slot)) return false;
    }
    return verifier_.EndTable();
  }

  bool Field(const reflection::Field& f, const flatbuffers::Table& table, voffset_t slot) {
    const reflection::Type& type = *f.type();
    const BaseType base = type.base_type();
    if (IsScalar(base)) return Scalar(table, slot, flatbuffers::GetTypeSize(base));
    bool ok = true;
    switch (base) {
      case reflection::String: {
        const uint8_t* s = Pointer(table, slot, &ok);
        return ok && verifier_.VerifyString(reinterpret_cast<const flatbuffers::String*>(s));
      }
      case reflection::Obj: {
        const reflection::Object& child = schema_.object(type.index());
        if (child.is_struct()) {
          const voffset_t field = table.GetOptionalFieldOffset(slot);
          return field == 0 ||
                 verifier_.VerifyFieldStruct(reinterpret_cast<const uint8_t*>(&table), field,
                                             static_cast<size_t>(child.bytesize()),
                                             static_cast<size_t>(child.minalign()));
        }
        const uint8_t* sub = Pointer(table, slot, &ok);
        return ok && (sub == nullptr || Table(child, sub));
      }
      case reflection::Union: {
        // The type byte sits in the slot before; check it before reading it.
        const auto type_slot = static_cast<voffset_t>(slot - 2);
        if (!Scalar(table, type_slot, 1)) return false;
        const uint8_t member = table.GetField<uint8_t>(type_slot, 0);
        const uint8_t* value = Pointer(table, slot, &ok);
        if (!ok || value == nullptr) return ok;
        // A value without a type: no reader can tell what it is (and flatbuffers' text
        // generator aborts on one).
        return member != 0 && Member(type.index(), member, value);
      }
      case reflection::Vector:
        return Vector(f, table, slot);
      default:
        return false;  // FlatbufferSchema::Parse admits no other type in a table
    }
  }

  // A union's value of type number `member`.
  bool Member(int32_t union_index, uint8_t member, const uint8_t* value) {
    const auto& members = *schema_.enumeration(union_index).values();
    if (member >= members.size()) return false;  // a type this schema does not know
    const reflection::Type& type = *members.Get(member)->union_type();
    if (type.base_type() == reflection::String) {
      return verifier_.VerifyString(reinterpret_cast<const flatbuffers::String*>(value));
    }
    const reflection::Object& object = schema_.object(type.index());
    if (!object.is_struct()) return Table(object, value);
    return Aligned(OffsetOf(value), static_cast<size_t>(object.minalign())) &&
           verifier_.VerifyFromPointer(value, static_cast<size_t>(object.bytesize()));
  }

  bool Vector(const reflection::Field& f, const flatbuffers::Table& table, voffset_t slot) {
    bool ok = true;
    const uint8_t* vector = Pointer(table, slot, &ok);
    if (!ok) return false;
    if (vector == nullptr) return true;
    const reflection::Type& type = *f.type();
    const BaseType element = type.element();
    const reflection::Object* object =
        element == reflection::Obj ? &schema_.object(type.index()) : nullptr;
    // Numbers and structs are stored in the vector; strings, tables and unions as offsets.
    const bool inline_elements = IsScalar(element) || (object && object->is_struct());
    size_t size = sizeof(uoffset_t);
    size_t align = sizeof(uoffset_t);
    if (IsScalar(element)) {
      size = align = flatbuffers::GetTypeSize(element);
    } else if (inline_elements) {
      size = static_cast<size_t>(object->bytesize());
      align = static_cast<size_t>(object->minalign());
    }
    if (!verifier_.VerifyVectorOrString(vector, size)) return false;
    const size_t data = OffsetOf(vector) + sizeof(uoffset_t);
    const uoffset_t count = flatbuffers::ReadScalar<uoffset_t>(vector);
    if (count > 0 && !Aligned(data, align)) return false;
    if (inline_elements) return true;
    const uint8_t* types = nullptr;
    if (element == reflection::Union) {
      // The types vector sits in the slot before.
      types = Pointer(table, static_cast<voffset_t>(slot - 2), &ok);
      if (!ok || types == nullptr || !verifier_.VerifyVectorOrString(types, 1) ||
          flatbuffers::ReadScalar<uoffset_t>(types) != count) {
        return false;
      }
    }
    for (uoffset_t i = 0; i < count; ++i) {
      const uint8_t member = types ? types[sizeof(uoffset_t) + i] : 0;
      if (types && member == 0) continue;  // a NONE element: nothing to read
      const uint8_t* target = Follow(data + i * sizeof(uoffset_t));
      if (target == nullptr) return false;
      const bool element_ok =
          element == reflection::String
              ? verifier_.VerifyString(reinterpret_cast<const flatbuffers::String*>(target))
          : object ? Table(*object, target)
                   : Member(type.index(), member, target);
      if (!element_ok) return false;
    }
    return true;
  }

  const FlatbufferSchema& schema_;
  const uint8_t* const buffer_;
  flatbuffers::Verifier verifier_;
};

}  // namespace

Status FlatbufferSchema::VerifyPayload(const uint8_t* buffer, size_t size) const {
  const std::string what = "'" + root_name() + "' flatbuffer";
  // A root offset and a vtable offset at least; the verifier refuses 2 GiB and more.
  if (size < 8 || size >= FLATBUFFERS_MAX_BUFFER_SIZE) {
    return Status::Corruption("the " + what + " is damaged: " + std::to_string(size) + " bytes");
  }
  const std::string identifier = file_identifier();
  if (!identifier.empty() && !flatbuffers::BufferHasIdentifier(buffer, identifier.c_str())) {
    return Status::InvalidArgument("the payload is not a " + what + ": it lacks the file " +
                                   "identifier '" + identifier + "'");
  }
  if (!PayloadVerifier(*this, buffer, size).Root()) {
    return Status::Corruption("the " + what + " is damaged: it fails verification (" +
                              std::to_string(size) + " bytes)");
  }
  return Status::Ok();
}

}  // namespace holdfast
