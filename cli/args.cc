#include "args.h"

#include <ostream>

namespace holdfast::cli {

std::optional<cxxopts::ParseResult> ParseCommandArgs(cxxopts::Options& options,
                                                     const std::vector<std::string>& args,
                                                     CommandIo io, int* exit_code) {
  options.add_options()("h,help", "show this help");
  std::string program = options.program();
  std::vector<const char*> argv{program.c_str()};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    cxxopts::ParseResult parsed = options.parse(static_cast<int>(argv.size()), argv.data());
    if (parsed.count("help")) {
      // Positional arguments appear in the usage line; their group would be an empty heading.
      std::vector<std::string> groups = options.groups();
      std::erase(groups, std::string(kPositionalGroup));
      io.out << options.help(groups);
      *exit_code = kExitOk;
      return std::nullopt;
    }
    if (!parsed.unmatched().empty()) {
      io.err << program << ": unexpected argument '" << parsed.unmatched().front()
             << "' (see --help)\n";
      *exit_code = kExitUsage;
      return std::nullopt;
    }
    return parsed;
  } catch (const cxxopts::exceptions::exception& e) {
    io.err << program << ": " << e.what() << " (see --help)\n";
    *exit_code = kExitUsage;
    return std::nullopt;
  }
}

}  // namespace holdfast::cli
