// Shared argument handling for CLI commands: every command gets --help and the same usage errors.
#ifndef HOLDFAST_CLI_ARGS_H_
#define HOLDFAST_CLI_ARGS_H_

#include <cxxopts.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace holdfast::cli {

// The option group of positional arguments, left out of --help's option list.
inline constexpr std::string_view kPositionalGroup = "positional";

// Parses `args` with `options` (to which it adds -h/--help). Returns the parse result, or nullopt
// after printing help (exit_code = 0) or a usage error naming the command (exit_code = 2).
// Positional arguments are refused unless the options declared them.
std::optional<cxxopts::ParseResult> ParseCommandArgs(cxxopts::Options& options,
                                                     const std::vector<std::string>& args,
                                                     CommandIo io, int* exit_code);

}  // namespace holdfast::cli

#endif  // HOLDFAST_CLI_ARGS_H_
