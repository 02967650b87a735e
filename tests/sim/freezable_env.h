// FreezableEnv: forwards to another Env until Freeze(); from then on every
// call that would change the disk blocks forever. It stops a running engine
// at an arbitrary instant without letting it write past that instant, so a
// test can "crash" the underlying MemEnv exactly there (MemEnv::SimulateCrash)
// and recover from it while the frozen engine's threads stay parked.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <shared_mutex>
#include <thread>

#include "io/env.h"

namespace tangelo::sim {

class FreezableEnv final : public io::Env {
 public:
  explicit FreezableEnv(io::Env& target) : target_(target) {}

  // After Freeze returns, no mutating call is in progress and none will
  // reach the target again.
  void Freeze() {
    std::unique_lock lock(mutex_);
    frozen_.store(true);
  }

  // Runs `operation` unless frozen; blocks forever when frozen.
  template <typename Operation>
  auto Mutate(Operation&& operation) {
    for (;;) {
      {
        std::shared_lock lock(mutex_);
        if (!frozen_.load()) return operation();
      }
      std::this_thread::sleep_for(std::chrono::hours(1));
    }
  }

  base::Result<std::unique_ptr<io::WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Wrap(Mutate([&] { return target_.NewAppendableFile(path); }));
  }
  base::Result<std::unique_ptr<io::WritableFile>> NewWritableFile(
      const std::string& path) override {
    return Wrap(Mutate([&] { return target_.NewWritableFile(path); }));
  }
  base::Result<std::unique_ptr<io::RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    return target_.NewRandomAccessFile(path);
  }
  base::Status ReadFile(const std::string& path, std::vector<std::byte>* contents) override {
    return target_.ReadFile(path, contents);
  }
  base::Result<uint64_t> FileSize(const std::string& path) override {
    return target_.FileSize(path);
  }
  bool FileExists(const std::string& path) override { return target_.FileExists(path); }
  base::Status Truncate(const std::string& path, uint64_t size) override {
    return Mutate([&] { return target_.Truncate(path, size); });
  }
  base::Status Rename(const std::string& from, const std::string& to) override {
    return Mutate([&] { return target_.Rename(from, to); });
  }
  base::Status RemoveFile(const std::string& path) override {
    return Mutate([&] { return target_.RemoveFile(path); });
  }
  base::Status CreateDir(const std::string& path) override {
    return Mutate([&] { return target_.CreateDir(path); });
  }
  base::Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return target_.ListDir(path);
  }
  base::Status SyncDir(const std::string& path) override {
    return Mutate([&] { return target_.SyncDir(path); });
  }

 private:
  class File final : public io::WritableFile {
   public:
    File(FreezableEnv& env, std::unique_ptr<io::WritableFile> file)
        : env_(env), file_(std::move(file)) {}
    base::Status Append(std::span<const std::byte> data) override {
      return env_.Mutate([&] { return file_->Append(data); });
    }
    base::Status Sync() override { return env_.Mutate([&] { return file_->Sync(); }); }
    base::Status Close() override { return env_.Mutate([&] { return file_->Close(); }); }
    uint64_t Size() const override { return file_->Size(); }

   private:
    FreezableEnv& env_;
    std::unique_ptr<io::WritableFile> file_;
  };

  base::Result<std::unique_ptr<io::WritableFile>> Wrap(
      base::Result<std::unique_ptr<io::WritableFile>> opened) {
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<io::WritableFile>(new File(*this, std::move(opened).value()));
  }

  io::Env& target_;
  std::shared_mutex mutex_;
  std::atomic<bool> frozen_{false};
};

}  // namespace tangelo::sim
