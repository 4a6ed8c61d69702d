#include "json_output.h"

namespace holdfast::cli {

void PrintJson(std::ostream& out, const Json& value) {
  out << value.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace)
      << '\n';
}

}  // namespace holdfast::cli
