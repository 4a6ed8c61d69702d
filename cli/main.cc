#include <iostream>

#include "command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  return holdfast::cli::RunCli(args, {std::cout, std::cerr});
}
