// gsocctl: the analyst's and operator's command line for gsoc.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/gsocctl/commands.h"

#ifdef GSOC_JEMALLOC
// Read by jemalloc when it starts (tools/gsocctl/CMakeLists.txt says why):
// its memory in transparent huge pages, where the kernel allows them
// ("madvise" mode, Debian's default, included), its metadata too.
extern "C" const char* malloc_conf;
const char* malloc_conf = "thp:always,metadata_thp:always";
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "gsocctl: test logs against rules, check rules, replay log files, read alerts, show a "
      "cluster"};
  app.require_subcommand(1);
  bool version = false;
  app.add_flag("-V,--version", version, "print the version");
  int exit_code = 0;
  gsoc::ctl::AddRulesCheck(app, &exit_code);
  gsoc::ctl::AddLogtest(app, &exit_code);
  gsoc::ctl::AddReplay(app, &exit_code);
  gsoc::ctl::AddTail(app, &exit_code);
  gsoc::ctl::AddQuery(app, &exit_code);
  gsoc::ctl::AddAlert(app, &exit_code);
  gsoc::ctl::AddTriage(app, &exit_code);
  gsoc::ctl::AddCase(app, &exit_code);
  gsoc::ctl::AddToken(app, &exit_code);
  gsoc::ctl::AddCluster(app, &exit_code);
  if (argc == 2 && (std::string(argv[1]) == "--version" || std::string(argv[1]) == "-V")) {
    std::printf("gsocctl %s\n", GSOC_VERSION);
    return 0;
  }
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
