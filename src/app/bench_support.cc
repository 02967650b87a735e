#include "app/bench.h"

namespace tangelo::app {

base::Status ClearJournalFiles(io::Env& env, const std::string& directory) {
  TG_RETURN_IF_ERROR(env.CreateDir(directory));
  auto names = env.ListDir(directory);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    if (name.rfind("journal-", 0) == 0 || name.rfind("snapshot-", 0) == 0) {
      TG_RETURN_IF_ERROR(env.RemoveFile(io::JoinPath(directory, name)));
    }
  }
  return env.SyncDir(directory);
}

}  // namespace tangelo::app
