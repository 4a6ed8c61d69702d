// FlatbufferSchema::VerifyPayload: a payload checked against its schema before anything reads it
// (the file identifier, flatbuffers' reflection verifier with limits, and the alignment the
// verifier does not check).
#include <flatbuffers/reflection_generated.h>

#include <algorithm>
#include <string>

#include "flatbuffer_schema.h"

namespace holdfast {
namespace {

using reflection::BaseType;

bool IsScalar(BaseType t) { return t >= reflection::UType && t <= reflection::Double; }

// The verifier checks tables' scalars and structs for alignment, but vectors only to 4 bytes and
// structs inside unions not at all: a vector of 8-byte numbers or structs at a 4-byte boundary
// passes it, and reading one is undefined behaviour. Walks the verified buffer (within the
// verifier's depth and table limits, which it has already enforced) and checks them.
class AlignmentChecker {
 public:
  explicit AlignmentChecker(const FlatbufferSchema& schema) : schema_(schema) {}

  bool Table(const reflection::Object& object, const flatbuffers::Table& table) const {
    for (const reflection::Field* f : *object.fields()) {
      const reflection::Type& type = *f->type();
      switch (type.base_type()) {
        case reflection::Obj: {
          const reflection::Object& child = schema_.object(type.index());
          const auto* sub = flatbuffers::GetFieldT(table, *f);
          if (!child.is_struct() && sub != nullptr && !Table(child, *sub)) return false;
          break;
        }
        case reflection::Union: {
          const auto type_slot = static_cast<flatbuffers::voffset_t>(f->offset() - 2);
          if (!Member(type.index(), table.GetField<uint8_t>(type_slot, 0),
                      table.GetPointer<const uint8_t*>(f->offset()))) {
            return false;
          }
          break;
        }
        case reflection::Vector:
          if (!Vector(*f, table)) return false;
          break;
        default:
          break;
      }
    }
    return true;
  }

 private:
  static bool Aligned(const void* p, size_t align) {
    return reinterpret_cast<uintptr_t>(p) % std::min<size_t>(align, 8) == 0;
  }

  bool Member(int32_t union_index, uint8_t member, const uint8_t* value) const {
    if (member == 0 || value == nullptr) return true;
    const auto& members = *schema_.enumeration(union_index).values();
    if (member >= members.size()) return false;  // the verifier refuses these already
    const reflection::Type* type = members.Get(member)->union_type();
    if (type->base_type() != reflection::Obj) return true;  // a string
    const reflection::Object& object = schema_.object(type->index());
    if (object.is_struct()) return Aligned(value, static_cast<size_t>(object.minalign()));
    return Table(object, *reinterpret_cast<const flatbuffers::Table*>(value));
  }

  bool Vector(const reflection::Field& f, const flatbuffers::Table& table) const {
    const auto* vector = table.GetPointer<const flatbuffers::Vector<uint8_t>*>(f.offset());
    if (vector == nullptr || vector->size() == 0) return true;
    const reflection::Type& type = *f.type();
    const BaseType element = type.element();
    if (IsScalar(element)) return Aligned(vector->Data(), flatbuffers::GetTypeSize(element));
    if (element == reflection::Obj) {
      const reflection::Object& child = schema_.object(type.index());
      if (child.is_struct()) return Aligned(vector->Data(), static_cast<size_t>(child.minalign()));
      const auto* tables =
          reinterpret_cast<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(
              vector);
      for (flatbuffers::uoffset_t i = 0; i < tables->size(); ++i) {
        if (!Table(child, *tables->Get(i))) return false;
      }
      return true;
    }
    if (element == reflection::Union) {
      const auto type_slot = static_cast<flatbuffers::voffset_t>(f.offset() - 2);
      const auto* types = table.GetPointer<const flatbuffers::Vector<uint8_t>*>(type_slot);
      const auto* values =
          reinterpret_cast<const flatbuffers::Vector<flatbuffers::Offset<uint8_t>>*>(vector);
      if (types == nullptr || types->size() != values->size()) return false;
      for (flatbuffers::uoffset_t i = 0; i < values->size(); ++i) {
        if (!Member(type.index(), types->Get(i), values->Get(i))) return false;
      }
    }
    return true;
  }

  const FlatbufferSchema& schema_;
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
    return Status::InvalidArgument("the payload is not a " + what +
                                   ": it lacks the file "
                                   "identifier '" +
                                   identifier + "'");
  }
  if (!flatbuffers::Verify(*schema_, *root_, buffer, size, kMaxPayloadDepth, kMaxPayloadTables)) {
    return Status::Corruption("the " + what + " is damaged: it fails verification (" +
                              std::to_string(size) + " bytes)");
  }
  if (!AlignmentChecker(*this).Table(*root_, *flatbuffers::GetRoot<flatbuffers::Table>(buffer))) {
    return Status::Corruption("the " + what + " is damaged: it holds a misaligned vector");
  }
  return Status::Ok();
}

}  // namespace holdfast
