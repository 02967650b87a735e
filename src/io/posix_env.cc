// The real file system behind Env::Posix().
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "io/env.h"

namespace tangelo::io {
namespace {

Status ErrnoStatus(const std::string& context, int error_number) {
  if (error_number == ENOENT) return base::NotFound(context + ": " + std::strerror(error_number));
  if (error_number == ENOSPC) {
    return base::ResourceExhausted(context + ": " + std::strerror(error_number));
  }
  return base::IoError(context + ": " + std::strerror(error_number));
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::span<const std::byte> data) override {
    const std::byte* cursor = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t written = ::write(fd_, cursor, left);
      if (written < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write " + path_, errno);
      }
      cursor += written;
      left -= static_cast<size_t>(written);
      size_ += static_cast<uint64_t>(written);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync " + path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    const int result = ::close(fd_);
    fd_ = -1;
    if (result != 0) return ErrnoStatus("close " + path_, errno);
    return Status::Ok();
  }

  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Result<size_t> ReadAt(uint64_t offset, std::byte* buffer, size_t size) const override {
    size_t done = 0;
    while (done < size) {
      const ssize_t got =
          ::pread(fd_, buffer + done, size - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("pread " + path_, errno);
      }
      if (got == 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  }
  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return Open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return Open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int error_number = errno;
      ::close(fd);
      return ErrnoStatus("fstat " + path, error_number);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(info.st_size)));
  }

  Status ReadFile(const std::string& path, std::vector<std::byte>* contents) override {
    auto file = NewRandomAccessFile(path);
    if (!file.ok()) return file.status();
    contents->resize((*file)->Size());
    auto got = (*file)->ReadAt(0, contents->data(), contents->size());
    if (!got.ok()) return got.status();
    contents->resize(*got);
    return Status::Ok();
  }

  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return ErrnoStatus("stat " + path, errno);
    return static_cast<uint64_t>(info.st_size);
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status Truncate(const std::string& path, uint64_t size) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    Status status;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      status = ErrnoStatus("ftruncate " + path, errno);
    } else if (::fsync(fd) != 0) {
      status = ErrnoStatus("fsync " + path, errno);
    }
    ::close(fd);
    return status;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename " + from + " to " + to, errno);
    }
    return Status::Ok();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("unlink " + path, errno);
    return Status::Ok();
  }

  Status CreateDir(const std::string& path) override {
    if (path.empty()) return base::InvalidArgument("empty directory path");
    std::string partial;
    size_t position = 0;
    while (position != std::string::npos) {
      position = path.find('/', position + 1);
      partial = path.substr(0, position);
      if (partial.empty()) continue;
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir " + partial, errno);
      }
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* directory = ::opendir(path.c_str());
    if (directory == nullptr) return ErrnoStatus("opendir " + path, errno);
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(directory)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    ::closedir(directory);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    Status status;
    if (::fsync(fd) != 0) status = ErrnoStatus("fsync " + path, errno);
    ::close(fd);
    return status;
  }

 private:
  Result<std::unique_ptr<WritableFile>> Open(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    const off_t end = ::lseek(fd, 0, SEEK_END);
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, end < 0 ? 0 : static_cast<uint64_t>(end)));
  }
};

}  // namespace

Env& Env::Posix() {
  static PosixEnv env;
  return env;
}

std::string JoinPath(const std::string& directory, const std::string& name) {
  if (directory.empty()) return name;
  if (directory.back() == '/') return directory + name;
  return directory + "/" + name;
}

}  // namespace tangelo::io
