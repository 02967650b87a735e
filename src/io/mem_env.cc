#include "io/mem_env.h"

#include <algorithm>
#include <cstring>

namespace tangelo::io {
namespace {

// Directory arguments are compared as strings, so "a/b/" and "a/b" must agree.
std::string NormalizeDirectory(const std::string& path) {
  std::string normalized = path;
  while (normalized.size() > 1 && normalized.back() == '/') normalized.pop_back();
  return normalized;
}

// The directory holding `path`: "a/b" for "a/b/c", "/" for "/c", "" for "c".
std::string ParentOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseNameOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

struct MemEnv::FileState {
  std::vector<std::byte> data;  // Current contents, as reads see them.
  uint64_t synced_size = 0;     // data[0, synced_size) is durable...
  // ...unless the file was rewritten or shrunk since its last sync: then the
  // durable contents are these, and no byte of `data` is durable yet.
  std::optional<std::vector<std::byte>> durable_override;
};

class MemEnv::MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(MemEnv* env, std::string path, std::shared_ptr<FileState> file,
                  uint64_t generation)
      : env_(env), path_(std::move(path)), file_(std::move(file)), generation_(generation) {}

  Status Append(std::span<const std::byte> data) override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    TG_RETURN_IF_ERROR(CheckUsable());
    if (env_->TakeInjectedFailure(&env_->fail_next_append_, path_)) {
      return base::IoError("injected append failure: " + path_);
    }
    file_->data.insert(file_->data.end(), data.begin(), data.end());
    ++env_->stats_.appends;
    env_->stats_.bytes_appended += data.size();
    return Status::Ok();
  }

  Status Sync() override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    TG_RETURN_IF_ERROR(CheckUsable());
    if (env_->TakeInjectedFailure(&env_->fail_next_sync_, path_)) {
      return base::IoError("injected fdatasync failure: " + path_);
    }
    file_->synced_size = file_->data.size();
    file_->durable_override.reset();
    ++env_->stats_.file_syncs;
    return Status::Ok();
  }

  Status Close() override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    closed_ = true;
    return Status::Ok();
  }

  uint64_t Size() const override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    return file_->data.size();
  }

 private:
  Status CheckUsable() const {
    if (closed_) return base::FailedPrecondition("write to closed file " + path_);
    if (generation_ != env_->generation_) {
      return base::IoError("file handle from before a simulated crash: " + path_);
    }
    return Status::Ok();
  }

  MemEnv* env_;
  std::string path_;
  std::shared_ptr<FileState> file_;
  uint64_t generation_;
  bool closed_ = false;
};

class MemEnv::MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(MemEnv* env, std::string path, std::shared_ptr<FileState> file,
                      uint64_t generation)
      : env_(env),
        path_(std::move(path)),
        file_(std::move(file)),
        generation_(generation),
        size_at_open_(file_->data.size()) {}

  Result<size_t> ReadAt(uint64_t offset, std::byte* buffer, size_t size) const override {
    std::lock_guard<std::mutex> lock(env_->mutex_);
    if (generation_ != env_->generation_) {
      return base::IoError("file handle from before a simulated crash: " + path_);
    }
    const uint64_t file_size = file_->data.size();
    if (offset >= file_size) return size_t{0};
    const size_t count = static_cast<size_t>(std::min<uint64_t>(size, file_size - offset));
    std::memcpy(buffer, file_->data.data() + offset, count);
    return count;
  }

  // Like a file descriptor's fstat at open time.
  uint64_t Size() const override { return size_at_open_; }

 private:
  MemEnv* env_;
  std::string path_;
  std::shared_ptr<FileState> file_;
  uint64_t generation_;
  uint64_t size_at_open_;
};

MemEnv::MemEnv(uint64_t seed) : random_(seed) {
  directories_.insert("");
  directories_.insert("/");
}

MemEnv::~MemEnv() = default;

bool MemEnv::TakeInjectedFailure(std::optional<std::string>* failure, const std::string& path) {
  if (!failure->has_value() || path.find(**failure) == std::string::npos) return false;
  failure->reset();
  ++stats_.injected_failures;
  return true;
}

bool MemEnv::DirectoryExistsLocked(const std::string& path) const {
  return directories_.count(NormalizeDirectory(path)) != 0;
}

Result<std::unique_ptr<WritableFile>> MemEnv::OpenWritable(const std::string& path,
                                                           bool truncate) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!DirectoryExistsLocked(ParentOf(path))) {
    return base::NotFound("open " + path + ": no such directory");
  }
  if (directories_.count(path) != 0) return base::InvalidArgument("open " + path + ": a directory");
  std::shared_ptr<FileState>& slot = files_[path];
  if (slot == nullptr) {
    slot = std::make_shared<FileState>();
  } else if (truncate) {
    FileState& file = *slot;
    if (!file.durable_override.has_value()) {
      file.durable_override.emplace(
          file.data.begin(), file.data.begin() + static_cast<std::ptrdiff_t>(file.synced_size));
    }
    file.data.clear();
    file.synced_size = 0;
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(this, path, slot, generation_));
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  return OpenWritable(path, /*truncate=*/false);
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  return OpenWritable(path, /*truncate=*/true);
}

Result<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return base::NotFound("open " + path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(
      new MemRandomAccessFile(this, path, found->second, generation_));
}

Status MemEnv::ReadFile(const std::string& path, std::vector<std::byte>* contents) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return base::NotFound("read " + path + ": no such file");
  *contents = found->second->data;
  return Status::Ok();
}

Result<uint64_t> MemEnv::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return base::NotFound("stat " + path + ": no such file");
  return static_cast<uint64_t>(found->second->data.size());
}

bool MemEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  return files_.count(path) != 0 || DirectoryExistsLocked(path);
}

Status MemEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return base::NotFound("truncate " + path + ": no such file");
  if (TakeInjectedFailure(&fail_next_sync_, path)) {
    return base::IoError("injected fsync failure in truncate: " + path);
  }
  FileState& file = *found->second;
  file.data.resize(static_cast<size_t>(size));  // Growing fills with zeros, like ftruncate.
  file.synced_size = file.data.size();
  file.durable_override.reset();
  ++stats_.truncates;
  return Status::Ok();
}

Status MemEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(from);
  if (found == files_.end()) return base::NotFound("rename " + from + ": no such file");
  if (!DirectoryExistsLocked(ParentOf(to))) {
    return base::NotFound("rename to " + to + ": no such directory");
  }
  if (directories_.count(to) != 0) return base::InvalidArgument("rename to a directory: " + to);
  std::shared_ptr<FileState> file = found->second;
  files_.erase(found);
  files_[to] = std::move(file);
  return Status::Ok();
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (files_.erase(path) == 0) return base::NotFound("unlink " + path + ": no such file");
  return Status::Ok();
}

Status MemEnv::CreateDir(const std::string& path) {
  if (path.empty()) return base::InvalidArgument("empty directory path");
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string directory = NormalizeDirectory(path);
  if (files_.count(directory) != 0) {
    return base::InvalidArgument("mkdir " + directory + ": a file exists");
  }
  // Every ancestor too, like `mkdir -p`.
  for (size_t slash = directory.find('/', 1); slash != std::string::npos;
       slash = directory.find('/', slash + 1)) {
    directories_.insert(directory.substr(0, slash));
  }
  directories_.insert(directory);
  return Status::Ok();
}

Result<std::vector<std::string>> MemEnv::ListDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string directory = NormalizeDirectory(path);
  if (directories_.count(directory) == 0) {
    return base::NotFound("opendir " + directory + ": no such directory");
  }
  std::set<std::string> names;
  for (const auto& [file_path, file] : files_) {
    if (ParentOf(file_path) == directory) names.insert(BaseNameOf(file_path));
  }
  for (const std::string& child : directories_) {
    if (!child.empty() && child != directory && ParentOf(child) == directory) {
      names.insert(BaseNameOf(child));
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Status MemEnv::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string directory = NormalizeDirectory(path);
  if (directories_.count(directory) == 0) {
    return base::NotFound("open " + directory + ": no such directory");
  }
  if (TakeInjectedFailure(&fail_next_sync_, directory)) {
    return base::IoError("injected directory fsync failure: " + directory);
  }
  std::map<std::string, std::shared_ptr<FileState>>& entries = durable_entries_[directory];
  entries.clear();
  for (const auto& [file_path, file] : files_) {
    if (ParentOf(file_path) == directory) entries[BaseNameOf(file_path)] = file;
  }
  ++stats_.dir_syncs;
  return Status::Ok();
}

void MemEnv::SimulateCrash(CrashMode mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  // What survives of each file's contents, decided once per file (a file can
  // be durable under two names after an unsynced rename) in sorted path
  // order, so the random draws are deterministic.
  std::map<const FileState*, std::vector<std::byte>> survivors;
  std::map<std::string, std::shared_ptr<FileState>> next_files;
  for (const auto& [directory, entries] : durable_entries_) {
    for (const auto& [name, file] : entries) {
      auto [survivor, inserted] = survivors.try_emplace(file.get());
      if (inserted) {
        if (file->durable_override.has_value()) {
          // Rewritten since its last sync: the old contents are what the
          // disk holds; the new bytes are not torn in, for simplicity.
          survivor->second = *file->durable_override;
        } else {
          const size_t synced = static_cast<size_t>(file->synced_size);
          const size_t unsynced = file->data.size() - synced;
          size_t kept = 0;
          if (mode != CrashMode::kDropUnsynced && unsynced > 0) {
            kept = static_cast<size_t>(random_.Uniform(uint64_t{unsynced} + 1));
          }
          survivor->second.assign(file->data.begin(),
                                  file->data.begin() + static_cast<std::ptrdiff_t>(synced + kept));
          if (mode == CrashMode::kTearUnsyncedZeroFill) survivor->second.resize(file->data.size());
        }
      }
      auto fresh = std::make_shared<FileState>();
      fresh->data = survivor->second;
      fresh->synced_size = fresh->data.size();
      next_files[JoinPath(directory, name)] = std::move(fresh);
    }
  }
  files_ = std::move(next_files);
  // The durable namespace now is exactly the surviving files.
  durable_entries_.clear();
  for (const auto& [file_path, file] : files_) {
    durable_entries_[ParentOf(file_path)][BaseNameOf(file_path)] = file;
  }
  fail_next_sync_.reset();
  fail_next_append_.reset();
  ++generation_;
  ++stats_.crashes;
}

Status MemEnv::FlipBit(const std::string& path, uint64_t byte_offset, uint8_t bit) {
  if (bit > 7) return base::InvalidArgument("bit must be 0..7");
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return base::NotFound("flip " + path + ": no such file");
  FileState& file = *found->second;
  if (byte_offset >= file.data.size()) {
    return base::InvalidArgument("flip " + path + ": offset past the end");
  }
  const std::byte mask{static_cast<unsigned char>(1u << bit)};
  file.data[static_cast<size_t>(byte_offset)] ^= mask;
  if (file.durable_override.has_value() && byte_offset < file.durable_override->size()) {
    (*file.durable_override)[static_cast<size_t>(byte_offset)] ^= mask;
  }
  return Status::Ok();
}

void MemEnv::FailNextSync(std::string path_substring) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_next_sync_ = std::move(path_substring);
}

void MemEnv::FailNextAppend(std::string path_substring) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_next_append_ = std::move(path_substring);
}

MemEnv::Stats MemEnv::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

uint64_t MemEnv::UnsyncedBytes(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = files_.find(path);
  if (found == files_.end()) return 0;
  const FileState& file = *found->second;
  if (file.durable_override.has_value()) return file.data.size();
  return file.data.size() - file.synced_size;
}

std::vector<std::string> MemEnv::AllFiles() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> paths;
  for (const auto& [file_path, file] : files_) paths.push_back(file_path);
  return paths;
}

}  // namespace tangelo::io
