// `holdfast version`: prints the build's version and the on-disk format it supports.
#include <cxxopts.hpp>
#include <ostream>

#include "args.h"
#include "command.h"
#include "holdfast/engine.h"

namespace holdfast::cli {
namespace version_command {

class VersionCommand final : public Command {
 public:
  std::string_view Name() const override { return "version"; }
  std::string_view Summary() const override {
    return "print the Holdfast version and supported format";
  }
  bool Writes() const override { return false; }

  int Run(const std::vector<std::string>& args, CommandIo io) override {
    cxxopts::Options options("holdfast version", std::string(Summary()));
    options.add_options()("json", "print JSON");
    int exit_code = kExitOk;
    auto parsed = ParseCommandArgs(options, args, io, &exit_code);
    if (!parsed) return exit_code;
    if (parsed->count("json")) {
      io.out << "{\"version\":\"" << holdfast::Version()
             << "\",\"format_version\":" << holdfast::SupportedFormatVersion() << "}\n";
    } else {
      io.out << "holdfast " << holdfast::Version() << " (on-disk format "
             << holdfast::SupportedFormatVersion() << ")\n";
    }
    return kExitOk;
  }
};

}  // namespace version_command

std::unique_ptr<Command> MakeVersionCommand() {
  return std::make_unique<version_command::VersionCommand>();
}

}  // namespace holdfast::cli
