#include "schema_evolution.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace holdfast::internal {
namespace {

using reflection::BaseType;

const char* ScalarName(BaseType t) {
  switch (t) {
    case reflection::UType:
      return "utype";
    case reflection::Bool:
      return "bool";
    case reflection::Byte:
      return "byte";
    case reflection::UByte:
      return "ubyte";
    case reflection::Short:
      return "short";
    case reflection::UShort:
      return "ushort";
    case reflection::Int:
      return "int";
    case reflection::UInt:
      return "uint";
    case reflection::Long:
      return "long";
    case reflection::ULong:
      return "ulong";
    case reflection::Float:
      return "float";
    case reflection::Double:
      return "double";
    case reflection::String:
      return "string";
    default:
      return "?";
  }
}

bool IsScalar(BaseType t) { return t >= reflection::UType && t <= reflection::Double; }

// Compares two verified schemas (FlatbufferSchema::Parse) from their roots. Works through a
// queue rather than recursion: a schema from disk may chain many thousands of tables.
class EvolutionChecker {
 public:
  EvolutionChecker(const FlatbufferSchema& registered, const FlatbufferSchema& offered)
      : old_(registered), new_(offered) {}

  std::vector<std::string> Run() {
    if (old_.root_name() != new_.root_name()) {
      Problem("the root table changed from '" + old_.root_name() + "' to '" + new_.root_name() +
              "'");
      return problems_;
    }
    if (old_.file_identifier() != new_.file_identifier()) {
      Problem("the file identifier changed from '" + old_.file_identifier() + "' to '" +
              new_.file_identifier() + "'");
    }
    QueueObjects(&old_.root(), &new_.root());
    while (!objects_.empty()) {
      auto [was, now] = objects_.back();
      objects_.pop_back();
      was->is_struct() ? CompareStructs(*was, *now) : CompareTables(*was, *now);
    }
    return problems_;
  }

 private:
  void Problem(std::string what) { problems_.push_back(std::move(what)); }

  // The IDL spelling of a type: "long", "Color (byte)", "[Item]", "[ubyte:16]".
  std::string TypeName(const FlatbufferSchema& s, BaseType base, BaseType element, int32_t index,
                       uint16_t length) const {
    if (base == reflection::Vector || base == reflection::Array) {
      const std::string inner = TypeName(s, element, reflection::None, index, 0);
      return "[" + inner + (base == reflection::Array ? ":" + std::to_string(length) : "") + "]";
    }
    if (base == reflection::Obj) return s.object(index).name()->str();
    if (base == reflection::Union) return s.enumeration(index).name()->str();
    if (IsScalar(base) && index >= 0) {
      return s.enumeration(index).name()->str() + " (" + ScalarName(base) + ")";
    }
    return ScalarName(base);
  }
  std::string TypeName(const FlatbufferSchema& s, const reflection::Type& t) const {
    return TypeName(s, t.base_type(), t.element(), t.index(), t.fixed_length());
  }

  void QueueObjects(const reflection::Object* was, const reflection::Object* now) {
    if (compared_objects_.insert({was, now}).second) objects_.emplace_back(was, now);
  }

  // Same kind, same referenced types (compared later, by name first), same array length.
  void CompareTypes(const std::string& where, const reflection::Type& was,
                    const reflection::Type& now) {
    const std::string was_name = TypeName(old_, was);
    const std::string now_name = TypeName(new_, now);
    if (was.base_type() != now.base_type() || was.element() != now.element() ||
        was.fixed_length() != now.fixed_length() || (was.index() < 0) != (now.index() < 0) ||
        was_name != now_name) {
      Problem(where + " changed type from " + was_name + " to " + now_name);
      return;
    }
    if (was.index() < 0) return;
    const BaseType kind =
        was.base_type() == reflection::Vector || was.base_type() == reflection::Array
            ? was.element()
            : was.base_type();
    if (kind == reflection::Obj) {
      QueueObjects(&old_.object(was.index()), &new_.object(now.index()));
    } else {
      CompareEnums(old_.enumeration(was.index()), new_.enumeration(now.index()));
    }
  }

  // Every value keeps its number and name (and a union member its type); values may be added.
  void CompareEnums(const reflection::Enum& was, const reflection::Enum& now) {
    if (!compared_enums_.insert({&was, &now}).second) return;
    const std::string what = (was.is_union() ? "union '" : "enum '") + was.name()->str() + "'";
    if (was.underlying_type()->base_type() != now.underlying_type()->base_type() ||
        was.is_union() != now.is_union()) {
      Problem(what + " changed its underlying type");
      return;
    }
    for (const reflection::EnumVal* value : *was.values()) {
      const reflection::EnumVal* same = now.values()->LookupByKey(value->value());
      const std::string item =
          what + " value " + value->name()->str() + " (" + std::to_string(value->value()) + ")";
      if (same == nullptr) {
        Problem(item + " was removed");
      } else if (same->name()->str() != value->name()->str()) {
        Problem(item + " was renamed to " + same->name()->str());
      } else if (was.is_union() && value->value() != 0) {
        CompareTypes(item, *value->union_type(), *same->union_type());
      }
    }
  }

  void CompareStructs(const reflection::Object& was, const reflection::Object& now) {
    const std::string what = "struct '" + was.name()->str() + "'";
    if (!now.is_struct()) {
      Problem(what + " became a table");
      return;
    }
    bool same = was.bytesize() == now.bytesize() && was.minalign() == now.minalign() &&
                was.fields()->size() == now.fields()->size();
    for (flatbuffers::uoffset_t i = 0; same && i < was.fields()->size(); ++i) {
      const reflection::Field& a = *was.fields()->Get(i);
      const reflection::Field& b = *now.fields()->Get(i);  // both sorted by name
      same = a.name()->str() == b.name()->str() && a.offset() == b.offset();
      if (same) CompareTypes(what + " field '" + a.name()->str() + "'", *a.type(), *b.type());
    }
    if (!same) Problem(what + " changed its layout (structs can never change)");
  }

  void CompareTables(const reflection::Object& was, const reflection::Object& now) {
    const std::string table = was.name()->str();
    if (now.is_struct()) {
      Problem("table '" + table + "' became a struct");
      return;
    }
    // Ids run 0..n-1 (checked by Parse), so they index the fields.
    std::vector<const reflection::Field*> now_by_id(now.fields()->size(), nullptr);
    for (const reflection::Field* f : *now.fields()) now_by_id[f->id()] = f;
    for (const reflection::Field* f : *was.fields()) {
      const std::string where =
          "field '" + table + "." + f->name()->str() + "' (id " + std::to_string(f->id()) + ")";
      const reflection::Field* g = f->id() < now_by_id.size() ? now_by_id[f->id()] : nullptr;
      if (g == nullptr) {
        Problem(where + " was removed; keep it and mark it (deprecated) instead");
        continue;
      }
      if (g->name()->str() != f->name()->str()) {
        Problem(where + " was renamed to '" + g->name()->str() + "'");
        continue;
      }
      CompareTypes(where, *f->type(), *g->type());
      if (IsScalar(f->type()->base_type()) &&
          (f->default_integer() != g->default_integer() ||
           !(f->default_real() == g->default_real() ||
             (f->default_real() != f->default_real() && g->default_real() != g->default_real())))) {
        Problem(where + " changed its default, which changes the meaning of stored records");
      }
      if (f->optional() != g->optional()) Problem(where + " changed whether it is optional");
      if (!f->required() && g->required()) {
        Problem(where + " became required; stored records without it would fail verification");
      }
    }
    for (const reflection::Field* g : *now.fields()) {
      if (g->id() >= was.fields()->size() && g->required()) {
        Problem("new field '" + table + "." + g->name()->str() +
                "' is required; records stored before it was added would fail verification");
      }
    }
  }

  const FlatbufferSchema& old_;
  const FlatbufferSchema& new_;
  std::vector<std::string> problems_;
  std::vector<std::pair<const reflection::Object*, const reflection::Object*>> objects_;
  std::set<std::pair<const reflection::Object*, const reflection::Object*>> compared_objects_;
  std::set<std::pair<const reflection::Enum*, const reflection::Enum*>> compared_enums_;
};

}  // namespace

Status CheckSchemaEvolution(const FlatbufferSchema& registered, const FlatbufferSchema& offered) {
  const std::vector<std::string> problems = EvolutionChecker(registered, offered).Run();
  if (problems.empty()) return Status::Ok();
  std::string message = "the schema of '" + offered.root_name() +
                        "' is not a compatible evolution of the registered one: ";
  for (size_t i = 0; i < problems.size() && i < kMaxReported; ++i) {
    message += (i ? "; " : "") + problems[i];
  }
  if (problems.size() > kMaxReported) {
    message += "; and " + std::to_string(problems.size() - kMaxReported) + " more";
  }
  return Status::InvalidArgument(std::move(message));
}

}  // namespace holdfast::internal
