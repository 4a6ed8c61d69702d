#include "flatbuffer_schema.h"

#include <flatbuffers/reflection_generated.h>

#include <vector>

namespace holdfast {
namespace {

using reflection::BaseType;
using Objects = flatbuffers::Vector<flatbuffers::Offset<reflection::Object>>;
using Enums = flatbuffers::Vector<flatbuffers::Offset<reflection::Enum>>;

// A reflection schema nests four tables deep; a hundred thousand tables is far beyond any game.
constexpr flatbuffers::uoffset_t kMaxSchemaDepth = 16;
constexpr flatbuffers::uoffset_t kMaxSchemaTables = 100'000;
// Flatbuffers limits: a union type is one byte; a field slot is a 16-bit vtable offset.
constexpr int64_t kMaxUnionMembers = 256;
constexpr uint32_t kMaxFieldId = (0xffff - 4) / 2;
constexpr int32_t kMaxStructBytes = 1 << 24;

bool IsScalar(BaseType t) { return t >= reflection::UType && t <= reflection::Double; }
bool IsInteger(BaseType t) { return t >= reflection::UType && t <= reflection::ULong; }
// Only for scalars, strings, vectors, tables and unions (flatbuffers::GetTypeSize indexes a
// table by the type, so it is never handed an unchecked one).
size_t SizeOf(BaseType t) { return flatbuffers::GetTypeSize(t); }

class SchemaChecker {
 public:
  explicit SchemaChecker(const reflection::Schema& s)
      : schema_(s), objects_(*s.objects()), enums_(*s.enums()) {}

  // Returns the root object's index through `root_index`.
  Status Check(flatbuffers::uoffset_t* root_index) {
    if (Status s = CheckNamesSorted(); !s.ok()) return s;
    for (const reflection::Enum* e : enums_) {
      if (Status s = CheckEnum(*e); !s.ok()) return s;
    }
    for (const reflection::Object* o : objects_) {
      if (Status s = CheckObject(*o); !s.ok()) return s;
    }
    if (Status s = CheckStructsAcyclic(); !s.ok()) return s;
    if (Status s = CheckServices(); !s.ok()) return s;
    const reflection::Object* root = schema_.root_table();
    if (root == nullptr) return Bad("it declares no root table (root_type)");
    for (flatbuffers::uoffset_t i = 0; i < objects_.size(); ++i) {
      if (objects_.Get(i) != root) continue;
      if (root->is_struct()) return Bad("its root type '" + root->name()->str() + "' is a struct");
      *root_index = i;
      return Status::Ok();
    }
    return Bad("its root table is not one of its objects");
  }

 private:
  static Status Bad(const std::string& why) {
    return Status::InvalidArgument("not a usable binary schema: " + why);
  }
  static std::string Where(const reflection::Object& o, const reflection::Field& f) {
    return "field '" + o.name()->str() + "." + f.name()->str() + "'";
  }

  const reflection::Object* ObjectAt(int32_t index) const {
    return index >= 0 && static_cast<uint32_t>(index) < objects_.size() ? objects_.Get(index)
                                                                        : nullptr;
  }
  const reflection::Enum* EnumAt(int32_t index) const {
    return index >= 0 && static_cast<uint32_t>(index) < enums_.size() ? enums_.Get(index) : nullptr;
  }

  // Lookups binary-search objects, enums and fields by name (and enum values by value).
  Status CheckNamesSorted() const {
    for (flatbuffers::uoffset_t i = 1; i < objects_.size(); ++i) {
      if (!(objects_.Get(i - 1)->name()->str() < objects_.Get(i)->name()->str())) {
        return Bad("object names are not sorted and unique at '" + objects_.Get(i)->name()->str() +
                   "'");
      }
    }
    for (flatbuffers::uoffset_t i = 1; i < enums_.size(); ++i) {
      if (!(enums_.Get(i - 1)->name()->str() < enums_.Get(i)->name()->str())) {
        return Bad("enum names are not sorted and unique at '" + enums_.Get(i)->name()->str() +
                   "'");
      }
    }
    return Status::Ok();
  }

  // An enum-typed scalar names an enum of the same underlying type.
  Status CheckEnumReference(const std::string& where, BaseType type, int32_t index) const {
    if (index < 0) return Status::Ok();
    const reflection::Enum* e = EnumAt(index);
    if (e == nullptr) return Bad(where + " names enum " + std::to_string(index) + ", not one");
    if (e->underlying_type()->base_type() != type) {
      return Bad(where + " has another type than its enum '" + e->name()->str() + "'");
    }
    return Status::Ok();
  }

  Status CheckEnum(const reflection::Enum& e) const {
    const std::string where = "enum '" + e.name()->str() + "'";
    const BaseType underlying = e.underlying_type()->base_type();
    if (!IsInteger(underlying) || (e.is_union() != (underlying == reflection::UType))) {
      return Bad(where + " has an underlying type that is not an integer of its kind");
    }
    const auto& values = *e.values();
    if (values.size() == 0) return Bad(where + " has no values");
    if (e.is_union() && values.size() > kMaxUnionMembers) return Bad(where + " is too large");
    for (flatbuffers::uoffset_t i = 0; i < values.size(); ++i) {
      const reflection::EnumVal& v = *values.Get(i);
      if (i > 0 && values.Get(i - 1)->value() >= v.value()) {
        return Bad(where + " values are not sorted and unique");
      }
      if (!e.is_union()) continue;
      // Readers index a union's members by type number.
      if (v.value() != static_cast<int64_t>(i)) return Bad(where + " has a gap in its members");
      const reflection::Type* member = v.union_type();
      const BaseType kind = member ? member->base_type() : reflection::None;
      const bool ok = i == 0 ? kind == reflection::None
                             : kind == reflection::String ||
                                   (kind == reflection::Obj && ObjectAt(member->index()));
      if (!ok) return Bad(where + " member '" + v.name()->str() + "' is not a table or struct");
    }
    return Status::Ok();
  }

  // Field ids must run 0..n-1: readers index an array of n entries by id.
  Status CheckIds(const reflection::Object& o) const {
    const auto& fields = *o.fields();
    std::vector<bool> seen(fields.size(), false);
    for (const reflection::Field* f : fields) {
      if (f->id() >= fields.size() || seen[f->id()]) {
        return Bad("the field ids of '" + o.name()->str() + "' do not run from 0 without gaps");
      }
      seen[f->id()] = true;
    }
    for (flatbuffers::uoffset_t i = 1; i < fields.size(); ++i) {
      if (!(fields.Get(i - 1)->name()->str() < fields.Get(i)->name()->str())) {
        return Bad("the field names of '" + o.name()->str() + "' are not sorted and unique");
      }
    }
    return Status::Ok();
  }

  Status CheckObject(const reflection::Object& o) const {
    if (Status s = CheckIds(o); !s.ok()) return s;
    if (o.is_struct()) {
      const int32_t align = o.minalign();
      if (align < 1 || align > 256 || (align & (align - 1)) != 0 || o.bytesize() < 1 ||
          o.bytesize() > kMaxStructBytes || o.bytesize() % align != 0) {
        return Bad("struct '" + o.name()->str() + "' has an impossible size or alignment");
      }
    }
    for (const reflection::Field* f : *o.fields()) {
      Status s = o.is_struct() ? CheckStructField(o, *f) : CheckTableField(o, *f);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status CheckTableField(const reflection::Object& o, const reflection::Field& f) const {
    const std::string where = Where(o, f);
    const reflection::Type& type = *f.type();
    if (f.id() > kMaxFieldId || f.offset() != 4 + 2 * f.id()) {
      return Bad(where + " has a slot that does not match its id");
    }
    const BaseType base = type.base_type();
    if (IsScalar(base)) {
      if (base == reflection::UType) {
        const reflection::Enum* e = EnumAt(type.index());
        if (e == nullptr || !e->is_union()) return Bad(where + " is a union type without union");
        return Status::Ok();
      }
      return CheckEnumReference(where, base, type.index());
    }
    switch (base) {
      case reflection::String:
        return Status::Ok();
      case reflection::Obj:
        return ObjectAt(type.index()) ? Status::Ok() : Bad(where + " names no object");
      case reflection::Union:
        return CheckUnionField(o, f, reflection::UType);
      case reflection::Vector: {
        const BaseType element = type.element();
        if (IsScalar(element)) {
          if (element == reflection::UType) return Status::Ok();  // a vector of union types
          return CheckEnumReference(where, element, type.index());
        }
        if (element == reflection::String) return Status::Ok();
        if (element == reflection::Obj) {
          return ObjectAt(type.index()) ? Status::Ok() : Bad(where + " names no object");
        }
        if (element == reflection::Union) return CheckUnionField(o, f, reflection::Vector);
        return Bad(where + " is a vector of an unsupported type");
      }
      default:
        return Bad(where + " has an unsupported type in a table");
    }
  }

  // A union (or a vector of unions) is stored with its type (vector) in the slot before it.
  Status CheckUnionField(const reflection::Object& o, const reflection::Field& f,
                         BaseType type_kind) const {
    const std::string where = Where(o, f);
    const reflection::Enum* e = EnumAt(f.type()->index());
    if (e == nullptr || !e->is_union()) return Bad(where + " names no union");
    const reflection::Field* type_field = nullptr;
    for (const reflection::Field* other : *o.fields()) {
      if (other->id() + 1 == f.id()) type_field = other;
    }
    if (type_field == nullptr || type_field->name()->str() != f.name()->str() + "_type" ||
        type_field->type()->base_type() != type_kind ||
        (type_kind == reflection::Vector && type_field->type()->element() != reflection::UType) ||
        type_field->type()->index() != f.type()->index()) {
      return Bad(where + " has no matching '_type' field before it");
    }
    return Status::Ok();
  }

  Status CheckStructField(const reflection::Object& o, const reflection::Field& f) const {
    const std::string where = Where(o, f);
    const reflection::Type& type = *f.type();
    BaseType base = type.base_type();
    uint64_t count = 1;
    if (base == reflection::Array) {
      if (type.fixed_length() == 0) return Bad(where + " is an empty array");
      count = type.fixed_length();
      base = type.element();
    }
    uint64_t size = 0;
    uint64_t align = 0;
    if (IsScalar(base) && base != reflection::UType) {
      if (Status s = CheckEnumReference(where, base, type.index()); !s.ok()) return s;
      size = align = SizeOf(base);
    } else if (base == reflection::Obj && ObjectAt(type.index()) &&
               ObjectAt(type.index())->is_struct()) {
      size = static_cast<uint64_t>(ObjectAt(type.index())->bytesize());
      align = static_cast<uint64_t>(ObjectAt(type.index())->minalign());
    } else {
      return Bad(where + " has a type a struct cannot hold");
    }
    if (f.offset() % align != 0 || align > static_cast<uint64_t>(o.minalign()) ||
        f.offset() + size * count > static_cast<uint64_t>(o.bytesize())) {
      return Bad(where + " does not lie aligned inside its struct");
    }
    return Status::Ok();
  }

  // A struct that contains itself would make every reader recurse forever.
  Status CheckStructsAcyclic() const {
    enum class Mark : uint8_t { kNew, kOpen, kDone };
    std::vector<Mark> marks(objects_.size(), Mark::kNew);
    for (flatbuffers::uoffset_t start = 0; start < objects_.size(); ++start) {
      if (!objects_.Get(start)->is_struct() || marks[start] != Mark::kNew) continue;
      // Iterative depth-first search: (struct, next field to look at).
      std::vector<std::pair<flatbuffers::uoffset_t, flatbuffers::uoffset_t>> path{{start, 0}};
      marks[start] = Mark::kOpen;
      while (!path.empty()) {
        auto& [index, next] = path.back();
        const auto& fields = *objects_.Get(index)->fields();
        if (next == fields.size()) {
          marks[index] = Mark::kDone;
          path.pop_back();
          continue;
        }
        const reflection::Type& type = *fields.Get(next++)->type();
        const bool nested =
            type.base_type() == reflection::Obj ||
            (type.base_type() == reflection::Array && type.element() == reflection::Obj);
        if (!nested) continue;
        const auto child = static_cast<flatbuffers::uoffset_t>(type.index());
        if (marks[child] == Mark::kOpen) {
          return Bad("struct '" + objects_.Get(child)->name()->str() + "' contains itself");
        }
        if (marks[child] == Mark::kNew) {
          marks[child] = Mark::kOpen;
          path.emplace_back(child, 0);
        }
      }
    }
    return Status::Ok();
  }

  // The text generator's parser resolves services' request and response types by name.
  Status CheckServices() const {
    if (schema_.services() == nullptr) return Status::Ok();
    for (const reflection::Service* service : *schema_.services()) {
      if (service->calls() == nullptr) continue;
      for (const reflection::RPCCall* call : *service->calls()) {
        for (const reflection::Object* o : {call->request(), call->response()}) {
          if (objects_.LookupByKey(o->name()->c_str()) == nullptr) {
            return Bad("service '" + service->name()->str() + "' names an unknown type");
          }
        }
      }
    }
    return Status::Ok();
  }

  const reflection::Schema& schema_;
  const Objects& objects_;
  const Enums& enums_;
};

}  // namespace

Result<std::shared_ptr<const FlatbufferSchema>> FlatbufferSchema::Parse(std::string_view bytes) {
  std::shared_ptr<FlatbufferSchema> parsed(new FlatbufferSchema(bytes));
  const internal::AlignedBytes& buf = parsed->bytes_;
  if (buf.size() < 8 || !reflection::SchemaBufferHasIdentifier(buf.data())) {
    return Status::InvalidArgument("not a binary schema (.bfbs): no 'BFBS' file identifier (" +
                                   std::to_string(buf.size()) + " bytes)");
  }
  flatbuffers::Verifier verifier(buf.data(), buf.size(), kMaxSchemaDepth, kMaxSchemaTables);
  if (!reflection::VerifySchemaBuffer(verifier)) {
    return Status::InvalidArgument("not a binary schema (.bfbs): it fails verification");
  }
  parsed->schema_ = reflection::GetSchema(buf.data());
  flatbuffers::uoffset_t root_index = 0;
  if (Status s = SchemaChecker(*parsed->schema_).Check(&root_index); !s.ok()) return s;
  parsed->root_ = parsed->schema_->objects()->Get(root_index);
  return std::shared_ptr<const FlatbufferSchema>(std::move(parsed));
}

const reflection::Object& FlatbufferSchema::object(int32_t index) const {
  return *schema_->objects()->Get(static_cast<flatbuffers::uoffset_t>(index));
}

const reflection::Enum& FlatbufferSchema::enumeration(int32_t index) const {
  return *schema_->enums()->Get(static_cast<flatbuffers::uoffset_t>(index));
}

std::string FlatbufferSchema::root_name() const { return root_->name()->str(); }

std::string FlatbufferSchema::file_identifier() const {
  const flatbuffers::String* id = schema_->file_ident();
  return id != nullptr && id->size() == flatbuffers::kFileIdentifierLength ? id->str() : "";
}

}  // namespace holdfast
