// tangelo_rules: writes or checks the generated monitoring files
// (deploy/prometheus/tangelo-rules.yml, deploy/grafana/critical-paths.json)
// from config/critical-paths.json. Run from the repository root:
//
//   tangelo_rules --write            regenerate both files
//   tangelo_rules --check            exit 1 if a committed file is stale
//   tangelo_rules --config other.json --root /path/to/repo --write
//
// Exit codes: 0 done / up to date, 1 stale files (--check), 2 bad usage or
// an invalid critical-path file.
#include <cstdio>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/env.h"
#include "telemetry/critical_path.h"
#include "telemetry/rules.h"

namespace {

using tangelo::io::Env;

int Usage() {
  std::fprintf(stderr, "usage: tangelo_rules [--config FILE] [--root DIR] --write|--check\n");
  return 2;
}

bool ReadText(Env& env, const std::string& file, std::string* text) {
  std::vector<std::byte> contents;
  if (!env.ReadFile(file, &contents).ok()) return false;
  text->assign(reinterpret_cast<const char*>(contents.data()), contents.size());
  return true;
}

tangelo::base::Status WriteText(Env& env, const std::string& file, const std::string& text) {
  auto writable = env.NewWritableFile(file);
  if (!writable.ok()) return writable.status();
  TG_RETURN_IF_ERROR((*writable)->Append(std::as_bytes(std::span(text.data(), text.size()))));
  TG_RETURN_IF_ERROR((*writable)->Sync());
  return (*writable)->Close();
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_file = "config/critical-paths.json";
  std::string root = ".";
  bool write = false;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--write") {
      write = true;
    } else if (arg == "--check") {
      check = true;
    } else if (arg == "--config" && i + 1 < argc) {
      config_file = argv[++i];
    } else if (arg == "--root" && i + 1 < argc) {
      root = argv[++i];
    } else {
      return Usage();
    }
  }
  if (write == check) return Usage();

  Env& env = Env::Posix();
  auto config = tangelo::telemetry::LoadCriticalPaths(&env, config_file);
  if (!config.ok()) {
    std::fprintf(stderr, "tangelo_rules: %s\n", config.status().message().c_str());
    return 2;
  }
  if (auto status = tangelo::telemetry::CheckConfigForRules(*config); !status.ok()) {
    std::fprintf(stderr, "tangelo_rules: %s\n", status.message().c_str());
    return 2;
  }
  const std::pair<std::string, std::string> outputs[] = {
      {root + "/" + std::string(tangelo::telemetry::kPrometheusRulesFile),
       tangelo::telemetry::GeneratePrometheusRules(*config)},
      {root + "/" + std::string(tangelo::telemetry::kGrafanaDashboardFile),
       tangelo::telemetry::GenerateGrafanaDashboard(*config)}};
  int stale = 0;
  for (const auto& [file, text] : outputs) {
    if (write) {
      if (auto status = WriteText(env, file, text); !status.ok()) {
        std::fprintf(stderr, "tangelo_rules: %s: %s\n", file.c_str(), status.message().c_str());
        return 2;
      }
      std::printf("wrote %s\n", file.c_str());
    } else {
      std::string committed;
      if (!ReadText(env, file, &committed) || committed != text) {
        std::fprintf(stderr, "tangelo_rules: %s is stale; run tangelo_rules --write\n",
                     file.c_str());
        ++stale;
      }
    }
  }
  return stale == 0 ? 0 : 1;
}
