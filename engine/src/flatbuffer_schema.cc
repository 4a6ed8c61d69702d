#include "flatbuffer_schema.h"

#include <flatbuffers/reflection_generated.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

// Whether a scalar field's default is a value of its type: the text generator reads defaults
// back as that type and aborts on one that does not fit.
bool DefaultFits(BaseType type, const reflection::Field& f) {
  const int64_t i = f.default_integer();
  const double d = f.default_real();
  switch (type) {
    case reflection::Bool:
      return i == 0 || i == 1;
    case reflection::Byte:
      return i >= INT8_MIN && i <= INT8_MAX;
    case reflection::UType:
    case reflection::UByte:
      return i >= 0 && i <= UINT8_MAX;
    case reflection::Short:
      return i >= INT16_MIN && i <= INT16_MAX;
    case reflection::UShort:
      return i >= 0 && i <= UINT16_MAX;
    case reflection::Int:
      return i >= INT32_MIN && i <= INT32_MAX;
    case reflection::UInt:
      return i >= 0 && i <= UINT32_MAX;
    case reflection::ULong:
      return i >= 0;  // stored as a long; a negative one reads back as no number at all
    case reflection::Float:
      return !std::isfinite(d) || std::fabs(d) <= std::numeric_limits<float>::max();
    default:
      return true;  // long, double
  }
}

class SchemaChecker {
 public:
  explicit SchemaChecker(const reflection::Schema& s)
      : schema_(s), objects_(*s.objects()), enums_(*s.enums()) {}

  // Returns the root object's index through `root_index`.
  Status Check(flatbuffers::uoffset_t* root_index) {
    if (Status s = CheckTypeBytes(); !s.ok()) return s;
    if (Status s = CheckNames(); !s.ok()) return s;
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

  // Every type's kind is a byte naming a reflection::BaseType. One outside that enum's range must
  // be refused before any accessor converts it: holding it as the enum is undefined behaviour.
  Status CheckTypeBytes() const {
    auto valid = [](const reflection::Type* t) {
      if (t == nullptr) return true;
      const auto& table = *reinterpret_cast<const flatbuffers::Table*>(t);  // at offset zero
      for (auto slot : {reflection::Type::VT_BASE_TYPE, reflection::Type::VT_ELEMENT}) {
        const int8_t kind = table.GetField<int8_t>(slot, 0);
        if (kind < reflection::None || kind >= reflection::MaxBaseType) return false;
      }
      return true;
    };
    for (const reflection::Object* o : objects_) {
      for (const reflection::Field* f : *o->fields()) {
        if (!valid(f->type())) return Bad("a field of '" + o->name()->str() + "' has no type");
      }
    }
    for (const reflection::Enum* e : enums_) {
      bool ok = valid(e->underlying_type());
      for (const reflection::EnumVal* v : *e->values()) ok = ok && valid(v->union_type());
      if (!ok) return Bad("enum '" + e->name()->str() + "' has a value of no type");
    }
    return Status::Ok();
  }

  // Lookups binary-search objects, enums and fields by name (and enum values by value), and
  // flatbuffers' schema loader frees a definition twice when a name repeats in one of its
  // symbol tables (fuzz/corpus/schema_render/regress-duplicate-enum-value-name): types (objects
  // and enums share one), fields, enum values, services, calls, and each one's attributes.
  // Names are identifiers, as flatc writes them (dotted for types): lookups compare them as C
  // strings, which a NUL inside one would cut short.
  Status CheckNames() const {
    std::vector<std::string> types;
    for (flatbuffers::uoffset_t i = 0; i < objects_.size(); ++i) {
      const reflection::Object& o = *objects_.Get(i);
      bool named = Identifier(o.name()->str(), true);
      for (const reflection::Field* f : *o.fields()) named = named && Identifier(f->name()->str());
      if (!named) return Bad("object '" + o.name()->str() + "' has a name that is no identifier");
      if (i > 0 && !(objects_.Get(i - 1)->name()->str() < o.name()->str())) {
        return Bad("object names are not sorted and unique at '" + o.name()->str() + "'");
      }
      types.push_back(o.name()->str());
      bool ok = DistinctKeys(o.attributes());
      for (const reflection::Field* f : *o.fields()) ok = ok && DistinctKeys(f->attributes());
      if (!ok) return Bad("'" + o.name()->str() + "' repeats an attribute");
    }
    for (flatbuffers::uoffset_t i = 0; i < enums_.size(); ++i) {
      const reflection::Enum& e = *enums_.Get(i);
      if (i > 0 && !(enums_.Get(i - 1)->name()->str() < e.name()->str())) {
        return Bad("enum names are not sorted and unique at '" + e.name()->str() + "'");
      }
      types.push_back(e.name()->str());
      std::vector<std::string> values;
      bool named = Identifier(e.name()->str(), true);
      for (const reflection::EnumVal* v : *e.values()) {
        values.push_back(v->name()->str());
        named = named && Identifier(values.back(), true);
      }
      if (!named) return Bad("enum '" + e.name()->str() + "' has a name that is no identifier");
      if (!Distinct(std::move(values)) || !DistinctKeys(e.attributes())) {
        return Bad("enum '" + e.name()->str() + "' repeats a value name or an attribute");
      }
    }
    if (!Distinct(std::move(types))) return Bad("an enum and an object share a name");
    if (schema_.services() == nullptr) return Status::Ok();
    std::vector<std::string> services;
    for (const reflection::Service* service : *schema_.services()) {
      services.push_back(service->name()->str());
      std::vector<std::string> calls;
      bool ok = DistinctKeys(service->attributes()) && Identifier(services.back(), true);
      if (service->calls() != nullptr) {
        for (const reflection::RPCCall* call : *service->calls()) {
          calls.push_back(call->name()->str());
          ok = ok && DistinctKeys(call->attributes()) && Identifier(calls.back());
        }
      }
      if (!ok || !Distinct(std::move(calls))) {
        return Bad("service '" + service->name()->str() + "' repeats a name or an attribute");
      }
    }
    return Distinct(std::move(services)) ? Status::Ok() : Bad("a service name repeats");
  }

  // [A-Za-z_][A-Za-z0-9_]*, or several joined by '.' when `dotted`.
  static bool Identifier(const std::string& name, bool dotted = false) {
    bool start = true;
    for (char c : name) {
      const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
      if (c == '.' && dotted && !start) {
        start = true;
      } else if (letter || (!start && c >= '0' && c <= '9')) {
        start = false;
      } else {
        return false;
      }
    }
    return !start;
  }

  static bool Distinct(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
  }
  static bool DistinctKeys(
      const flatbuffers::Vector<flatbuffers::Offset<reflection::KeyValue>>* attributes) {
    std::vector<std::string> keys;
    if (attributes != nullptr) {
      for (const reflection::KeyValue* kv : *attributes) keys.push_back(kv->key()->str());
    }
    return Distinct(std::move(keys));
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
    int keys = 0;
    for (const reflection::Field* f : *o.fields()) {
      // The schema loader aborts on a field that is both (regress-required-and-optional), and
      // frees a field twice when a second one is a key (regress-two-key-fields).
      if (f->required() && f->optional()) return Bad(Where(o, *f) + " is required and optional");
      keys += f->key() ? 1 : 0;
    }
    if (keys > 1) return Bad("'" + o.name()->str() + "' has more than one key field");
    if (o.is_struct()) {
      const int32_t align = o.minalign();
      if (align < 1 || align > 256 || (align & (align - 1)) != 0 || o.bytesize() < 1 ||
          o.bytesize() > kMaxStructBytes || o.bytesize() % align != 0) {
        return Bad("struct '" + o.name()->str() + "' has an impossible size or alignment");
      }
    }
    if (!o.is_struct()) {
      // A table has no fixed size; readers check that it declares none.
      if (o.bytesize() != 0) return Bad("table '" + o.name()->str() + "' declares a size");
      for (const reflection::Field* f : *o.fields()) {
        if (Status s = CheckTableField(o, *f); !s.ok()) return s;
      }
      return Status::Ok();
    }
    // Readers recompute a struct's layout from its fields in id order: they must follow each
    // other without overlapping, from offset 0, and end (padded to the alignment) at its size.
    std::vector<std::pair<uint64_t, uint64_t>> extents(o.fields()->size());  // offset, bytes
    for (const reflection::Field* f : *o.fields()) {
      uint64_t bytes = 0;
      if (Status s = CheckStructField(o, *f, &bytes); !s.ok()) return s;
      extents[f->id()] = {f->offset(), bytes};
    }
    bool in_order = !extents.empty() && extents[0].first == 0;
    uint64_t end = 0;
    for (const auto& [offset, bytes] : extents) {
      in_order = in_order && offset >= end;
      end = offset + bytes;
    }
    const uint64_t align = static_cast<uint64_t>(o.minalign());
    if (!in_order || (end + align - 1) / align * align != static_cast<uint64_t>(o.bytesize())) {
      return Bad("struct '" + o.name()->str() + "' has fields that do not fill it in order");
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
      if (!DefaultFits(base, f)) return Bad(where + " has a default its type cannot hold");
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
        type_field->type()->index() != f.type()->index() ||
        type_field->deprecated() != f.deprecated()) {
      return Bad(where + " has no matching '_type' field before it");
    }
    return Status::Ok();
  }

  // `bytes`: how many bytes the field takes.
  Status CheckStructField(const reflection::Object& o, const reflection::Field& f,
                          uint64_t* bytes) const {
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
    *bytes = size * count;
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
