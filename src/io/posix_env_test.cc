#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "io/clock.h"
#include "io/env.h"

namespace tangelo::io {
namespace {

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

class PosixEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tangelo-env-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf " + directory_).c_str()); }
  std::string directory_;
  Env& env_ = Env::Posix();
};

TEST_F(PosixEnvTest, AppendSyncReadBack) {
  const std::string path = JoinPath(directory_, "a.log");
  auto file = env_.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("hello ")).ok());
  ASSERT_TRUE((*file)->Append(Bytes("world")).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  EXPECT_EQ((*file)->Size(), 11u);
  ASSERT_TRUE((*file)->Close().ok());

  std::vector<std::byte> contents;
  ASSERT_TRUE(env_.ReadFile(path, &contents).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(contents.data()), contents.size()),
            "hello world");
  // Reopening for append continues at the end.
  auto again = env_.NewAppendableFile(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), 11u);
}

TEST_F(PosixEnvTest, DirectoryOperations) {
  const std::string nested = JoinPath(directory_, "x/y");
  ASSERT_TRUE(env_.CreateDir(nested).ok());
  ASSERT_TRUE(env_.CreateDir(nested).ok());
  auto file = env_.NewWritableFile(JoinPath(nested, "b.tmp"));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("12345")).ok());
  ASSERT_TRUE((*file)->Close().ok());
  ASSERT_TRUE(env_.Rename(JoinPath(nested, "b.tmp"), JoinPath(nested, "b")).ok());
  ASSERT_TRUE(env_.SyncDir(nested).ok());
  auto names = env_.ListDir(nested);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"b"});
  ASSERT_TRUE(env_.Truncate(JoinPath(nested, "b"), 2).ok());
  EXPECT_EQ(*env_.FileSize(JoinPath(nested, "b")), 2u);
  ASSERT_TRUE(env_.RemoveFile(JoinPath(nested, "b")).ok());
  EXPECT_FALSE(env_.FileExists(JoinPath(nested, "b")));
}

TEST_F(PosixEnvTest, MissingFilesAreNotFound) {
  std::vector<std::byte> contents;
  EXPECT_EQ(env_.ReadFile(JoinPath(directory_, "missing"), &contents).code(),
            base::StatusCode::kNotFound);
  EXPECT_EQ(env_.FileSize(JoinPath(directory_, "missing")).status().code(),
            base::StatusCode::kNotFound);
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.RealtimeNs(), 1000u);
  const uint64_t monotonic = clock.MonotonicNs();
  clock.Advance(500);
  EXPECT_EQ(clock.RealtimeNs(), 1500u);
  EXPECT_EQ(clock.MonotonicNs(), monotonic + 500);
  SystemClock& system = SystemClock::Instance();
  const uint64_t first = system.MonotonicNs();
  EXPECT_GE(system.MonotonicNs(), first);
}

}  // namespace
}  // namespace tangelo::io
