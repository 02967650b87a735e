#include "io/mem_env.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tangelo::io {
namespace {

using CrashMode = MemEnv::CrashMode;

std::span<const std::byte> Bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string Contents(MemEnv& env, const std::string& path) {
  std::vector<std::byte> contents;
  const Status status = env.ReadFile(path, &contents);
  if (!status.ok()) return "<" + status.ToString() + ">";
  return std::string(reinterpret_cast<const char*>(contents.data()), contents.size());
}

// Creates dir/name with `synced` synced and `unsynced` appended after, and
// makes the name durable.
void MakeFile(MemEnv& env, const std::string& path, const std::string& synced,
              const std::string& unsynced) {
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(Bytes(synced)).ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE(env.SyncDir(path.substr(0, path.find_last_of('/'))).ok());
  ASSERT_TRUE((*file)->Append(Bytes(unsynced)).ok());
}

TEST(MemEnvTest, BehavesLikeAFileSystem) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data/journal/").ok());
  EXPECT_TRUE(env.FileExists("/data"));
  auto file = env.NewAppendableFile("/data/journal/a");
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(Bytes("hello ")).ok());
  ASSERT_TRUE((*file)->Append(Bytes("world")).ok());
  EXPECT_EQ((*file)->Size(), 11u);
  EXPECT_EQ(Contents(env, "/data/journal/a"), "hello world");
  EXPECT_EQ(*env.FileSize("/data/journal/a"), 11u);

  auto reader = env.NewRandomAccessFile("/data/journal/a");
  ASSERT_TRUE(reader.ok());
  std::byte buffer[16];
  auto got = (*reader)->ReadAt(6, buffer, sizeof(buffer));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), *got), "world");
  EXPECT_EQ(*(*reader)->ReadAt(100, buffer, 4), 0u);

  // Reopening for append continues at the end.
  auto again = env.NewAppendableFile("/data/journal/a");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Size(), 11u);

  ASSERT_TRUE(env.CreateDir("/data/journal/sub").ok());
  auto names = env.ListDir("/data/journal");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "sub"}));

  ASSERT_TRUE(env.Rename("/data/journal/a", "/data/journal/b").ok());
  EXPECT_FALSE(env.FileExists("/data/journal/a"));
  EXPECT_EQ(Contents(env, "/data/journal/b"), "hello world");
  ASSERT_TRUE(env.Truncate("/data/journal/b", 5).ok());
  EXPECT_EQ(Contents(env, "/data/journal/b"), "hello");
  ASSERT_TRUE(env.RemoveFile("/data/journal/b").ok());
  EXPECT_FALSE(env.FileExists("/data/journal/b"));
}

TEST(MemEnvTest, MissingThingsAreNotFound) {
  MemEnv env;
  std::vector<std::byte> contents;
  EXPECT_EQ(env.ReadFile("/nope", &contents).code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.FileSize("/nope").status().code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.NewRandomAccessFile("/nope").status().code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.NewWritableFile("/no/dir/file").status().code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.ListDir("/no/dir").status().code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.SyncDir("/no/dir").code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.RemoveFile("/nope").code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.Rename("/nope", "/other").code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.Truncate("/nope", 0).code(), base::StatusCode::kNotFound);
  EXPECT_EQ(env.CreateDir("").code(), base::StatusCode::kInvalidArgument);
}

TEST(MemEnvTest, CrashDropsUnsyncedBytes) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  MakeFile(env, "/d/f", "durable", "-lost");
  EXPECT_EQ(env.UnsyncedBytes("/d/f"), 5u);
  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ(Contents(env, "/d/f"), "durable");
  EXPECT_EQ(env.UnsyncedBytes("/d/f"), 0u);
  EXPECT_EQ(env.stats().crashes, 1u);
}

TEST(MemEnvTest, CrashUndoesUnsyncedDirectoryOperations) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  MakeFile(env, "/d/kept", "k", "");
  MakeFile(env, "/d/removed", "r", "");
  MakeFile(env, "/d/renamed", "n", "");
  // Synced contents, but the name was never made durable.
  auto fresh = env.NewWritableFile("/d/fresh");
  ASSERT_TRUE(fresh.ok());
  ASSERT_TRUE((*fresh)->Append(Bytes("x")).ok());
  ASSERT_TRUE((*fresh)->Sync().ok());
  ASSERT_TRUE(env.RemoveFile("/d/removed").ok());
  ASSERT_TRUE(env.Rename("/d/renamed", "/d/target").ok());

  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ(*env.ListDir("/d"), (std::vector<std::string>{"kept", "removed", "renamed"}));
  EXPECT_EQ(Contents(env, "/d/removed"), "r");
  EXPECT_EQ(Contents(env, "/d/renamed"), "n");
}

TEST(MemEnvTest, SyncDirMakesDirectoryOperationsDurable) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  MakeFile(env, "/d/a.tmp", "payload", "");
  ASSERT_TRUE(env.Rename("/d/a.tmp", "/d/a").ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());
  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ(*env.ListDir("/d"), std::vector<std::string>{"a"});
  EXPECT_EQ(Contents(env, "/d/a"), "payload");
}

TEST(MemEnvTest, RewrittenFileKeepsOldDurableContentsUntilSync) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  MakeFile(env, "/d/f", "old", "");
  auto rewrite = env.NewWritableFile("/d/f");
  ASSERT_TRUE(rewrite.ok());
  ASSERT_TRUE((*rewrite)->Append(Bytes("new contents")).ok());
  EXPECT_EQ(Contents(env, "/d/f"), "new contents");
  env.SimulateCrash(CrashMode::kTearUnsynced);
  EXPECT_EQ(Contents(env, "/d/f"), "old");

  auto second = env.NewWritableFile("/d/f");
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->Append(Bytes("new")).ok());
  ASSERT_TRUE((*second)->Sync().ok());
  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ(Contents(env, "/d/f"), "new");
}

TEST(MemEnvTest, TearKeepsAPrefixOfUnsyncedBytes) {
  const std::string unsynced = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::set<size_t> sizes_seen;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    MemEnv env(seed);
    ASSERT_TRUE(env.CreateDir("/d").ok());
    MakeFile(env, "/d/f", "SYNCED", unsynced);
    env.SimulateCrash(CrashMode::kTearUnsynced);
    const std::string after = Contents(env, "/d/f");
    ASSERT_GE(after.size(), 6u);
    ASSERT_LE(after.size(), 6 + unsynced.size());
    EXPECT_EQ(after, ("SYNCED" + unsynced).substr(0, after.size()));
    sizes_seen.insert(after.size());
  }
  // The prefix length really varies with the seed.
  EXPECT_GT(sizes_seen.size(), 10u);
}

TEST(MemEnvTest, TearWithZeroFillKeepsTheSizeAndZeroesTheRest) {
  const std::string unsynced(64, 'x');
  bool saw_zeros = false;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    MemEnv env(seed);
    ASSERT_TRUE(env.CreateDir("/d").ok());
    MakeFile(env, "/d/f", "SYNCED", unsynced);
    env.SimulateCrash(CrashMode::kTearUnsyncedZeroFill);
    const std::string after = Contents(env, "/d/f");
    ASSERT_EQ(after.size(), 6 + unsynced.size());
    EXPECT_EQ(after.substr(0, 6), "SYNCED");
    const size_t first_zero = after.find('\0');
    if (first_zero != std::string::npos) {
      saw_zeros = true;
      EXPECT_EQ(after.substr(6, first_zero - 6), std::string(first_zero - 6, 'x'));
      EXPECT_EQ(after.substr(first_zero), std::string(after.size() - first_zero, '\0'));
    }
  }
  EXPECT_TRUE(saw_zeros);
}

TEST(MemEnvTest, CrashesAreDeterministicUnderASeed) {
  auto run = [](uint64_t seed) {
    MemEnv env(seed);
    EXPECT_TRUE(env.CreateDir("/d").ok());
    for (int index = 0; index < 5; ++index) {
      MakeFile(env, "/d/f" + std::to_string(index), "s", std::string(100, 'u'));
    }
    env.SimulateCrash(CrashMode::kTearUnsynced);
    std::vector<std::string> contents;
    for (const std::string& path : env.AllFiles()) contents.push_back(Contents(env, path));
    return contents;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(MemEnvTest, HandlesFromBeforeACrashAreStale) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto writer = env.NewWritableFile("/d/f");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Bytes("abc")).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());
  auto reader = env.NewRandomAccessFile("/d/f");
  ASSERT_TRUE(reader.ok());
  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ((*writer)->Append(Bytes("x")).code(), base::StatusCode::kIoError);
  EXPECT_EQ((*writer)->Sync().code(), base::StatusCode::kIoError);
  std::byte buffer[4];
  EXPECT_EQ((*reader)->ReadAt(0, buffer, 3).status().code(), base::StatusCode::kIoError);
  EXPECT_EQ(Contents(env, "/d/f"), "abc");
}

TEST(MemEnvTest, ClosedFileRejectsWrites) {
  MemEnv env;
  auto writer = env.NewWritableFile("f");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_EQ((*writer)->Append(Bytes("x")).code(), base::StatusCode::kFailedPrecondition);
}

TEST(MemEnvTest, FlipBitCorruptsDurableBytes) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  MakeFile(env, "/d/f", "A", "");
  ASSERT_TRUE(env.FlipBit("/d/f", 0, 1).ok());  // 'A' = 0x41 -> 0x43 'C'.
  EXPECT_EQ(Contents(env, "/d/f"), "C");
  env.SimulateCrash(CrashMode::kDropUnsynced);
  EXPECT_EQ(Contents(env, "/d/f"), "C");
  EXPECT_EQ(env.FlipBit("/d/f", 1, 0).code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(env.FlipBit("/d/f", 0, 8).code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(env.FlipBit("/d/missing", 0, 0).code(), base::StatusCode::kNotFound);
}

TEST(MemEnvTest, InjectedSyncFailureIsOneShotAndMakesNothingDurable) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto writer = env.NewWritableFile("/d/journal.log");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());
  ASSERT_TRUE((*writer)->Append(Bytes("batch")).ok());
  env.FailNextSync("other");
  env.FailNextSync("journal");  // Replaces the first.
  const Status failed = (*writer)->Sync();
  EXPECT_EQ(failed.code(), base::StatusCode::kIoError);
  EXPECT_NE(failed.message().find("journal.log"), std::string::npos);
  EXPECT_EQ(env.UnsyncedBytes("/d/journal.log"), 5u);
  EXPECT_TRUE((*writer)->Sync().ok());
  EXPECT_EQ(env.UnsyncedBytes("/d/journal.log"), 0u);
  EXPECT_EQ(env.stats().injected_failures, 1u);

  env.FailNextSync("/d");
  EXPECT_EQ(env.SyncDir("/d").code(), base::StatusCode::kIoError);
  EXPECT_TRUE(env.SyncDir("/d").ok());
  env.FailNextSync("journal");
  EXPECT_EQ(env.Truncate("/d/journal.log", 1).code(), base::StatusCode::kIoError);
  EXPECT_EQ(*env.FileSize("/d/journal.log"), 5u);
}

TEST(MemEnvTest, InjectedAppendFailureAppendsNothing) {
  MemEnv env;
  auto writer = env.NewWritableFile("seg.log");
  ASSERT_TRUE(writer.ok());
  env.FailNextAppend("unrelated");
  ASSERT_TRUE((*writer)->Append(Bytes("ok")).ok());
  env.FailNextAppend("seg");
  EXPECT_EQ((*writer)->Append(Bytes("lost")).code(), base::StatusCode::kIoError);
  EXPECT_EQ((*writer)->Size(), 2u);
  ASSERT_TRUE((*writer)->Append(Bytes("!")).ok());
  EXPECT_EQ(Contents(env, "seg.log"), "ok!");
}

TEST(MemEnvTest, CountsOperations) {
  MemEnv env;
  auto writer = env.NewWritableFile("f");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Bytes("abc")).ok());
  ASSERT_TRUE((*writer)->Append(Bytes("de")).ok());
  ASSERT_TRUE((*writer)->Sync().ok());
  ASSERT_TRUE(env.SyncDir("").ok());
  const MemEnv::Stats stats = env.stats();
  EXPECT_EQ(stats.appends, 2u);
  EXPECT_EQ(stats.bytes_appended, 5u);
  EXPECT_EQ(stats.file_syncs, 1u);
  EXPECT_EQ(stats.dir_syncs, 1u);
}

}  // namespace
}  // namespace tangelo::io
