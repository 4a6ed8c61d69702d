// FlatbufferCodec's library side (holdfast/flatbuffer_codec.h): loading the embedded schema,
// verifying payloads against it, and Reconcile — filling the sub-tables a packed profile lacks
// from the packed template, working on the buffers through the schema's reflection data.
#include <flatbuffers/reflection.h>

#include <string>
#include <utility>
#include <vector>

#include "aligned_bytes.h"
#include "flatbuffer_schema.h"
#include "holdfast/flatbuffer_codec.h"

namespace holdfast::flatbuffer_support {
namespace {

using flatbuffers::uoffset_t;
using reflection::BaseType;

bool IsScalar(BaseType t) { return t >= reflection::UType && t <= reflection::Double; }

bool IsTable(const FlatbufferSchema& schema, const reflection::Field& f) {
  return f.type()->base_type() == reflection::Obj && !schema.object(f.type()->index()).is_struct();
}

// flatbuffers::CopyTable, which copies the parts reconcile does not change, handles neither
// vectors of unions nor union members that are structs or strings: refuse such schemas.
Status CheckSupported(const FlatbufferSchema& schema) {
  for (const reflection::Object* o : *schema.schema().objects()) {
    for (const reflection::Field* f : *o->fields()) {
      if (f->type()->base_type() == reflection::Vector &&
          f->type()->element() == reflection::Union) {
        return Status::InvalidArgument("reconcile does not support vectors of unions ('" +
                                       o->name()->str() + "." + f->name()->str() + "')");
      }
    }
  }
  for (const reflection::Enum* e : *schema.schema().enums()) {
    if (!e->is_union()) continue;
    for (const reflection::EnumVal* v : *e->values()) {
      const reflection::Type* member = v->union_type();
      if (v->value() != 0 && !(member->base_type() == reflection::Obj &&
                               !schema.object(member->index()).is_struct())) {
        return Status::InvalidArgument(
            "reconcile does not support union members that are not "
            "tables ('" +
            e->name()->str() + "." + v->name()->str() + "')");
      }
    }
  }
  return Status::Ok();
}

// Builds the reconciled buffer. Both inputs were verified against the schema, so every offset
// read here is in bounds and recursion is as deep as the verifier allowed (kMaxPayloadDepth).
class Merger {
 public:
  Merger(flatbuffers::FlatBufferBuilder& fbb, const FlatbufferSchema& schema)
      : fbb_(fbb), schema_(schema) {}

  // True when a sub-table absent from `data` is present in `tmpl`, here or below.
  bool NeedsFill(const reflection::Object& object, const flatbuffers::Table& data,
                 const flatbuffers::Table& tmpl) const {
    for (const reflection::Field* f : *object.fields()) {
      if (!IsTable(schema_, *f)) continue;
      const flatbuffers::Table* mine = flatbuffers::GetFieldT(data, *f);
      const flatbuffers::Table* theirs = flatbuffers::GetFieldT(tmpl, *f);
      if (theirs == nullptr) continue;
      if (mine == nullptr || NeedsFill(schema_.object(f->type()->index()), *mine, *theirs)) {
        return true;
      }
    }
    return false;
  }

  // A copy of `data` with the absent sub-tables filled from `tmpl` (which may be null).
  uoffset_t Table(const reflection::Object& object, const flatbuffers::Table& data,
                  const flatbuffers::Table* tmpl) {
    // Out-of-line values first: a table is built after everything it points to.
    std::vector<std::pair<flatbuffers::voffset_t, uoffset_t>> offsets;
    for (const reflection::Field* f : *object.fields()) {
      const BaseType base = f->type()->base_type();
      uoffset_t offset = 0;
      if (IsTable(schema_, *f)) {
        const reflection::Object& child = schema_.object(f->type()->index());
        const flatbuffers::Table* mine = flatbuffers::GetFieldT(data, *f);
        const flatbuffers::Table* theirs = tmpl ? flatbuffers::GetFieldT(*tmpl, *f) : nullptr;
        if (mine != nullptr && theirs != nullptr && NeedsFill(child, *mine, *theirs)) {
          offset = Table(child, *mine, theirs);
        } else if (mine != nullptr || theirs != nullptr) {
          offset = Copy(child, mine != nullptr ? *mine : *theirs);
        }
      } else if ((base == reflection::String || base == reflection::Vector ||
                  base == reflection::Union) &&
                 data.CheckField(f->offset())) {
        offset = OutOfLine(*f, data);
      }
      if (offset != 0) offsets.emplace_back(f->offset(), offset);
    }
    const uoffset_t start = fbb_.StartTable();
    for (const auto& [slot, offset] : offsets)
      fbb_.AddOffset(slot, flatbuffers::Offset<void>(offset));
    for (const reflection::Field* f : *object.fields()) {
      if (!data.CheckField(f->offset())) continue;
      const BaseType base = f->type()->base_type();
      if (IsScalar(base)) {
        const size_t size = flatbuffers::GetTypeSize(base);
        Inline(*f, data, size, size);
      } else if (base == reflection::Obj && !IsTable(schema_, *f)) {
        const reflection::Object& s = schema_.object(f->type()->index());
        Inline(*f, data, static_cast<size_t>(s.minalign()), static_cast<size_t>(s.bytesize()));
      }
    }
    return fbb_.EndTable(start);
  }

 private:
  uoffset_t Copy(const reflection::Object& object, const flatbuffers::Table& table) {
    return flatbuffers::CopyTable(fbb_, schema_.schema(), object, table).o;
  }

  // A scalar or struct stored in the table itself, copied as bytes.
  void Inline(const reflection::Field& f, const flatbuffers::Table& data, size_t align,
              size_t size) {
    fbb_.Align(align);
    fbb_.PushBytes(data.GetStruct<const uint8_t*>(f.offset()), size);
    fbb_.TrackField(f.offset(), fbb_.GetSize());
  }

  // A string, vector or union (of a table: CheckSupported) present in `data`, copied.
  uoffset_t OutOfLine(const reflection::Field& f, const flatbuffers::Table& data) {
    const reflection::Type& type = *f.type();
    switch (type.base_type()) {
      case reflection::String:
        return fbb_.CreateString(flatbuffers::GetFieldS(data, f)).o;
      case reflection::Union: {
        const auto type_slot = static_cast<flatbuffers::voffset_t>(f.offset() - 2);
        const uint8_t member = data.GetField<uint8_t>(type_slot, 0);
        if (member == 0) return 0;
        const reflection::Type& member_type =
            *schema_.enumeration(type.index()).values()->Get(member)->union_type();
        return Copy(schema_.object(member_type.index()), *flatbuffers::GetFieldT(data, f));
      }
      default:
        break;
    }
    const auto* vector = data.GetPointer<const flatbuffers::Vector<uint8_t>*>(f.offset());
    const BaseType element = type.element();
    if (element == reflection::String) {
      const auto* strings =
          reinterpret_cast<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>*>(
              vector);
      std::vector<flatbuffers::Offset<flatbuffers::String>> copies;
      for (uoffset_t i = 0; i < strings->size(); ++i) {
        copies.push_back(fbb_.CreateString(strings->Get(i)));
      }
      return fbb_.CreateVector(copies).o;
    }
    if (element == reflection::Obj && !schema_.object(type.index()).is_struct()) {
      const auto* tables =
          reinterpret_cast<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(
              vector);
      std::vector<flatbuffers::Offset<const flatbuffers::Table*>> copies;
      for (uoffset_t i = 0; i < tables->size(); ++i) {
        copies.push_back(flatbuffers::Offset<const flatbuffers::Table*>(
            Copy(schema_.object(type.index()), *tables->Get(i))));
      }
      return fbb_.CreateVector(copies).o;
    }
    // Scalars and structs: the elements' bytes, aligned as the element needs.
    size_t size = 0;
    size_t align = 0;
    if (element == reflection::Obj) {
      size = static_cast<size_t>(schema_.object(type.index()).bytesize());
      align = static_cast<size_t>(schema_.object(type.index()).minalign());
    } else {
      size = align = flatbuffers::GetTypeSize(element);
    }
    fbb_.StartVector(vector->size() * size / align, align);
    fbb_.PushBytes(vector->Data(), vector->size() * size);
    return fbb_.EndVector(vector->size());
  }

  flatbuffers::FlatBufferBuilder& fbb_;
  const FlatbufferSchema& schema_;
};

}  // namespace

Result<std::shared_ptr<const FlatbufferSchema>> LoadSchema(std::string_view bfbs) {
  return FlatbufferSchema::Parse(bfbs);
}

std::string FileIdentifier(const FlatbufferSchema& schema) { return schema.file_identifier(); }

std::string RootName(const FlatbufferSchema& schema) { return schema.root_name(); }

Status VerifyPayload(const FlatbufferSchema& schema, const uint8_t* buffer, size_t size) {
  return schema.VerifyPayload(buffer, size);
}

Result<std::string> Reconcile(const FlatbufferSchema& schema, std::string_view data,
                              std::string_view template_data) {
  if (Status s = CheckSupported(schema); !s.ok()) return s;
  const internal::AlignedBytes mine(data);
  const internal::AlignedBytes theirs(template_data);
  if (Status s = schema.VerifyPayload(mine.data(), mine.size()); !s.ok()) {
    return s.WithContext("reconcile: the data");
  }
  if (Status s = schema.VerifyPayload(theirs.data(), theirs.size()); !s.ok()) {
    return s.WithContext("reconcile: the template");
  }
  const auto& root = *flatbuffers::GetRoot<flatbuffers::Table>(mine.data());
  const auto& template_root = *flatbuffers::GetRoot<flatbuffers::Table>(theirs.data());
  flatbuffers::FlatBufferBuilder fbb(data.size() + template_data.size() + 64);
  Merger merger(fbb, schema);
  if (!merger.NeedsFill(schema.root(), root, template_root)) return std::string(data);
  const uoffset_t merged = merger.Table(schema.root(), root, &template_root);
  const std::string identifier = schema.file_identifier();
  fbb.Finish(flatbuffers::Offset<flatbuffers::Table>(merged),
             identifier.empty() ? nullptr : identifier.c_str());
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace holdfast::flatbuffer_support
