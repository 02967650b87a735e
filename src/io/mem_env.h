// MemEnv: an in-memory, fault-injecting file system for tests and simulations
// (the leveldb fault_injection_test shape).
//
// It keeps, for every file, which bytes a crash would keep (those covered by a
// successful Sync) and, for every directory, which entries a crash would keep
// (those present at its last SyncDir). SimulateCrash then throws away what a
// real power cut could throw away, in one of several modes, so the journal's
// durability claims are tested rather than assumed. Bit flips and one-shot
// Append/Sync failures model media corruption and I/O errors. Everything
// random is drawn from one seeded generator, so a failing seed replays.
//
// Model (what is durable):
// - File contents: the bytes present at the last successful Sync() (or
//   Truncate(), which syncs). A file rewritten by NewWritableFile keeps its
//   old durable contents until the next Sync.
// - Names: a file exists after a crash only if its name was present in its
//   directory at that directory's last SyncDir(). Creations, renames and
//   removals since then are undone.
// - Directories themselves are durable as soon as CreateDir returns (a
//   simplification: the journal creates its directory once, at start-up).
//
// Thread safety: thread safe; one mutex guards everything (test-only code).
// Handles (WritableFile, RandomAccessFile) must not outlive the MemEnv; after
// SimulateCrash every handle opened before it fails with IoError, like the
// file descriptors of a process that died.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/random.h"
#include "io/env.h"

namespace tangelo::io {

class MemEnv final : public Env {
 public:
  // What a crash keeps of unsynced file data. Unsynced directory operations
  // are undone in every mode. Stable numbers: used in test names and seeds.
  enum class CrashMode : uint8_t {
    // Every file goes back to its last synced contents.
    kDropUnsynced = 0,
    // Every file keeps its synced contents plus a random prefix (possibly
    // empty, possibly all) of the bytes appended after them.
    kTearUnsynced = 1,
    // As kTearUnsynced, then zero bytes up to the size the file had before
    // the crash: the file size reached the disk but the data did not.
    kTearUnsyncedZeroFill = 2,
  };

  // Counters of operations, for tests that assert on I/O behaviour (for
  // example one Append and one Sync per group commit).
  struct Stats {
    uint64_t appends = 0;
    uint64_t bytes_appended = 0;
    uint64_t file_syncs = 0;  // Successful WritableFile::Sync calls.
    uint64_t dir_syncs = 0;   // Successful SyncDir calls.
    uint64_t truncates = 0;
    uint64_t crashes = 0;
    uint64_t injected_failures = 0;
  };

  explicit MemEnv(uint64_t seed = 1);
  ~MemEnv() override;
  MemEnv(const MemEnv&) = delete;
  MemEnv& operator=(const MemEnv&) = delete;

  // Env. Semantics follow Env::Posix(): NotFound for missing files and
  // directories (including the parent directory of a file being created).
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status ReadFile(const std::string& path, std::vector<std::byte>* contents) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;

  // Fault injection.

  // Replaces the file system with what survived a power cut in `mode`.
  // Deterministic for a given seed and history of operations.
  void SimulateCrash(CrashMode mode);
  // Flips one bit of a file's current contents (and of its durable contents
  // if the byte is durable): media corruption. InvalidArgument when the
  // offset is past the end or bit > 7; NotFound when the file is missing.
  Status FlipBit(const std::string& path, uint64_t byte_offset, uint8_t bit);
  // The next fsync-like operation (WritableFile::Sync, SyncDir, Truncate) on
  // a path containing `path_substring` fails with IoError and makes nothing
  // durable. One-shot; a second call replaces the first.
  void FailNextSync(std::string path_substring);
  // The next WritableFile::Append to a path containing `path_substring` fails
  // with IoError and appends nothing. One-shot.
  void FailNextAppend(std::string path_substring);

  // Inspection.
  Stats stats() const;
  // Bytes of the file that a kDropUnsynced crash would lose (0 if missing).
  uint64_t UnsyncedBytes(const std::string& path) const;
  // Every file path in the current namespace, sorted.
  std::vector<std::string> AllFiles() const;

 private:
  struct FileState;
  class MemWritableFile;
  class MemRandomAccessFile;

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path, bool truncate);
  // Consumes the one-shot failure matching `path`, if any. Caller holds mutex_.
  bool TakeInjectedFailure(std::optional<std::string>* failure, const std::string& path);
  bool DirectoryExistsLocked(const std::string& path) const;

  mutable std::mutex mutex_;
  base::Random random_;
  uint64_t generation_ = 0;  // Bumped by each crash; handles from older ones are stale.
  std::map<std::string, std::shared_ptr<FileState>> files_;  // Path -> file, current.
  std::set<std::string> directories_;
  // Directory -> (name -> file) as of its last SyncDir: the durable namespace.
  std::map<std::string, std::map<std::string, std::shared_ptr<FileState>>> durable_entries_;
  std::optional<std::string> fail_next_sync_;
  std::optional<std::string> fail_next_append_;
  Stats stats_;
};

}  // namespace tangelo::io
