// Env: the file system as an interface (the leveldb Env shape).
//
// The journal, snapshots and file ingestion reach the disk only through Env,
// so tests can run them on MemEnv (io/mem_env.h), an in-memory file system
// that can drop unsynced writes, tear the last write and flip bits. Paths are
// plain strings; directories are created explicitly.
//
// Durability contract (what the journal relies on):
// - WritableFile::Append data is durable only after Sync() returned ok.
// - A file's existence and name are durable only after SyncDir() of its
//   directory returned ok (after create, rename or remove).
// - Rename() atomically replaces the target.
// A Sync() error is reported once and must be treated as fatal by the caller:
// after a failed fsync, the kernel may have dropped the dirty pages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace tangelo::io {

using base::Result;
using base::Status;

// Not thread safe: one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::span<const std::byte> data) = 0;
  // fdatasync: everything appended so far survives a crash.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes in the file, including appended but unsynced bytes.
  virtual uint64_t Size() const = 0;
};

// Thread safe for concurrent reads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to `size` bytes at `offset` into `buffer`; returns bytes read
  // (fewer only at end of file).
  virtual Result<size_t> ReadAt(uint64_t offset, std::byte* buffer, size_t size) const = 0;
  virtual uint64_t Size() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Creates the file if missing; appends at its end.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // Creates the file, truncating any existing one.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;

  // Reads a whole file. kNotFound when it does not exist.
  virtual Status ReadFile(const std::string& path, std::vector<std::byte>* contents) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Cuts the file to `size` bytes and makes the new size durable.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates the directory and its parents; ok if it exists.
  virtual Status CreateDir(const std::string& path) = 0;
  // File names (not paths) in the directory, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Makes creations, renames and removals in the directory durable.
  virtual Status SyncDir(const std::string& path) = 0;

  // The real file system. Thread safe.
  static Env& Posix();
};

// Joins a directory and a file name with one '/'.
std::string JoinPath(const std::string& directory, const std::string& name);

}  // namespace tangelo::io
