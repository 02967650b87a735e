#include "journal/files.h"

#include <algorithm>

#include "journal/record_format.h"

namespace tangelo::journal {
namespace {

base::Result<std::vector<std::string>> NamesIn(io::Env& env, const std::string& directory) {
  auto names = env.ListDir(directory);
  if (!names.ok() && names.status().code() == base::StatusCode::kNotFound) {
    return std::vector<std::string>{};
  }
  return names;
}

constexpr std::string_view kTemporarySuffix = ".tmp";

}  // namespace

base::Result<std::vector<SegmentFile>> ListSegments(io::Env& env, const std::string& directory) {
  auto names = NamesIn(env, directory);
  if (!names.ok()) return names.status();
  std::vector<SegmentFile> segments;
  for (const std::string& name : *names) {
    uint64_t first_sequence = 0;
    if (ParseSegmentFileName(name, &first_sequence)) {
      segments.push_back(SegmentFile{first_sequence, io::JoinPath(directory, name)});
    }
  }
  // Names are zero-padded, so ListDir's order is already sequence order;
  // sorting again keeps that an explicit guarantee rather than an accident.
  std::sort(segments.begin(), segments.end(), [](const SegmentFile& left, const SegmentFile& right) {
    return left.first_sequence < right.first_sequence;
  });
  return segments;
}

base::Result<std::vector<SnapshotFile>> ListSnapshots(io::Env& env, const std::string& directory) {
  auto names = NamesIn(env, directory);
  if (!names.ok()) return names.status();
  std::vector<SnapshotFile> snapshots;
  for (const std::string& name : *names) {
    uint64_t sequence = 0;
    if (ParseSnapshotFileName(name, &sequence)) {
      snapshots.push_back(SnapshotFile{sequence, io::JoinPath(directory, name)});
    }
  }
  std::sort(snapshots.begin(), snapshots.end(),
            [](const SnapshotFile& left, const SnapshotFile& right) {
              return left.sequence < right.sequence;
            });
  return snapshots;
}

base::Result<std::vector<std::string>> ListSnapshotTemporaries(io::Env& env,
                                                               const std::string& directory) {
  auto names = NamesIn(env, directory);
  if (!names.ok()) return names.status();
  std::vector<std::string> temporaries;
  for (const std::string& name : *names) {
    if (name.size() <= kTemporarySuffix.size()) continue;
    const std::string base_name = name.substr(0, name.size() - kTemporarySuffix.size());
    uint64_t sequence = 0;
    if (name.ends_with(kTemporarySuffix) && ParseSnapshotFileName(base_name, &sequence)) {
      temporaries.push_back(name);
    }
  }
  return temporaries;
}

base::Status DataLossAt(const std::string& what, const std::string& path, uint64_t offset,
                        const std::string& detail) {
  return base::DataLoss(what + " " + path + " at byte " + std::to_string(offset) + ": " + detail);
}

}  // namespace tangelo::journal
