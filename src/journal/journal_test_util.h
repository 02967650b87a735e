// Helpers shared by the journal's tests: deterministic batch contents, a
// consumer that records what recovery replayed, and an Env fixture that runs
// the same test on MemEnv and on a real temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "io/env.h"
#include "io/mem_env.h"
#include "journal/batch.h"
#include "journal/recovery.h"
#include "journal/writer.h"

namespace tangelo::journal::testing {

struct TestEntry {
  uint16_t kind = 1;
  std::vector<std::byte> payload;
  bool operator==(const TestEntry&) const = default;
};

struct TestBatch {
  uint64_t sequence = 0;
  uint64_t timestamp_ns = 0;
  std::vector<TestEntry> entries;
  bool operator==(const TestBatch&) const = default;
};

inline std::vector<std::byte> BytesOf(const std::string& text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return std::vector<std::byte>(data, data + text.size());
}

// Deterministic contents for batch `sequence`: 1..max_entries entries of
// 0..max_payload bytes, derived from the sequence so any test can rebuild
// what it expects.
inline TestBatch MakeTestBatch(uint64_t sequence, uint32_t max_entries = 6,
                               uint32_t max_payload = 96) {
  base::Random random(sequence * 7919 + 17);
  TestBatch batch;
  batch.sequence = sequence;
  batch.timestamp_ns = 1'700'000'000'000'000'000ULL + sequence * 1000;
  const uint64_t entry_count = random.Between(1, max_entries);
  for (uint64_t index = 0; index < entry_count; ++index) {
    TestEntry entry;
    entry.kind = static_cast<uint16_t>(random.Between(1, 40));
    entry.payload.resize(static_cast<size_t>(random.Between(0, max_payload)));
    // A quarter zero bytes, so payloads often end in zeros (the torn-tail
    // rule must not depend on payload bytes).
    for (std::byte& byte : entry.payload) {
      byte = random.Uniform(4) == 0 ? std::byte{0} : static_cast<std::byte>(random.Next());
    }
    batch.entries.push_back(std::move(entry));
  }
  return batch;
}

// Encodes a batch; owns its bytes.
struct EncodedBatch {
  std::vector<std::byte> bytes;
  uint64_t checksum = 0;
};

inline EncodedBatch Encode(const TestBatch& batch, uint64_t prev_checksum) {
  static thread_local std::vector<std::byte> buffer(base::kJournalBatchSizeMax);
  BatchBuilder builder(buffer);
  builder.Reset(batch.sequence, batch.timestamp_ns, prev_checksum);
  for (const TestEntry& entry : batch.entries) {
    const bool added = builder.Add(entry.kind, entry.payload);
    EXPECT_TRUE(added);
  }
  const FinishedBatch finished = builder.Finish();
  return EncodedBatch{std::vector<std::byte>(finished.bytes.begin(), finished.bytes.end()),
                      finished.checksum};
}

inline TestBatch Decode(const BatchView& view) {
  TestBatch batch;
  batch.sequence = view.sequence();
  batch.timestamp_ns = view.timestamp_ns();
  for (const EntryView entry : view) {
    batch.entries.push_back(
        TestEntry{entry.kind, std::vector<std::byte>(entry.payload.begin(), entry.payload.end())});
  }
  return batch;
}

// Records everything a recovery hands out.
struct Replayed {
  bool snapshot_seen = false;
  uint64_t snapshot_sequence = 0;
  std::vector<std::byte> snapshot_payload;
  std::vector<TestBatch> batches;

  SnapshotConsumer SnapshotSink() {
    return [this](std::span<const std::byte> payload, uint64_t sequence) {
      snapshot_seen = true;
      snapshot_sequence = sequence;
      snapshot_payload.assign(payload.begin(), payload.end());
      return base::Status::Ok();
    };
  }
  BatchConsumer BatchSink() {
    return [this](const BatchView& view) {
      batches.push_back(Decode(view));
      return base::Status::Ok();
    };
  }
};

inline base::Result<RecoveryResult> RecoverInto(io::Env& env, const std::string& directory,
                                                Replayed* replayed,
                                                RecoveryOptions options = {}) {
  return Recover(env, directory, replayed->SnapshotSink(), replayed->BatchSink(), options);
}

// Writes batches first..last (MakeTestBatch contents), each with its own
// Write+Sync. Returns the writer for more.
inline void WriteBatches(Writer& writer, uint64_t first, uint64_t last) {
  for (uint64_t sequence = first; sequence <= last; ++sequence) {
    ASSERT_EQ(writer.next_sequence(), sequence);
    const EncodedBatch encoded = Encode(MakeTestBatch(sequence), writer.last_checksum());
    ASSERT_TRUE(writer.Write(encoded.bytes).ok());
    ASSERT_TRUE(writer.Sync().ok());
  }
}

// The file helpers below change files for a test to read back; they do not
// sync (no crash follows them), which keeps the real-disk runs fast.

inline void WriteWholeFile(io::Env& env, const std::string& path,
                           std::span<const std::byte> bytes) {
  auto file = env.NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(bytes).ok());
  ASSERT_TRUE((*file)->Close().ok());
}

// Rewrites a file through the Env with one bit flipped (works on any Env).
inline void FlipBitInFile(io::Env& env, const std::string& path, uint64_t offset, int bit) {
  std::vector<std::byte> contents;
  ASSERT_TRUE(env.ReadFile(path, &contents).ok());
  ASSERT_LT(offset, contents.size());
  contents[static_cast<size_t>(offset)] ^= std::byte{static_cast<unsigned char>(1u << bit)};
  WriteWholeFile(env, path, contents);
}

inline void AppendToFile(io::Env& env, const std::string& path,
                         std::span<const std::byte> bytes) {
  auto file = env.NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(bytes).ok());
  ASSERT_TRUE((*file)->Close().ok());
}

inline std::vector<std::byte> ReadAll(io::Env& env, const std::string& path) {
  std::vector<std::byte> contents;
  EXPECT_TRUE(env.ReadFile(path, &contents).ok()) << path;
  return contents;
}


enum class EnvKind { kMemory, kPosix };

inline std::string EnvKindName(const ::testing::TestParamInfo<EnvKind>& kind) {
  return kind.param == EnvKind::kMemory ? "MemEnv" : "PosixEnv";
}

// Runs a test on MemEnv or in a fresh temporary directory on the real disk.
class EnvTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EnvKind::kMemory) {
      memory_ = std::make_unique<io::MemEnv>(/*seed=*/42);
      env_ = memory_.get();
      root_ = "/test";
    } else {
      char pattern[] = "/tmp/tangelo-journal-XXXXXX";
      ASSERT_NE(::mkdtemp(pattern), nullptr);
      root_ = pattern;
      env_ = &io::Env::Posix();
    }
    directory_ = io::JoinPath(root_, "journal");
  }
  void TearDown() override {
    if (GetParam() == EnvKind::kPosix) {
      const int status = std::system(("rm -rf '" + root_ + "'").c_str());
      EXPECT_EQ(status, 0);
    }
  }

  io::Env& env() { return *env_; }
  // Exhaustive offset sweeps run at every byte in memory and at a stride on
  // the real disk, where each step costs an fsync (recovery's truncate).
  uint64_t sweep_stride() const { return GetParam() == EnvKind::kMemory ? 1 : 5; }
  // Writes batches 1..last with small segments (several rotations) and
  // returns the segment names, oldest first.
  std::vector<std::string> WriteRotatedJournal(uint64_t last, uint64_t segment_size_max = 1024) {
    WriterOptions options;
    options.segment_size_max = segment_size_max;
    auto writer = Writer::Open(env(), directory_, kFirstSequence, kChainStartChecksum, options);
    EXPECT_TRUE(writer.ok());
    WriteBatches(**writer, 1, last);
    auto names = env().ListDir(directory_);
    EXPECT_TRUE(names.ok());
    return *names;
  }
  std::string SegmentPath(uint64_t first_sequence) const {
    return io::JoinPath(directory_, SegmentFileName(first_sequence));
  }
  std::string SnapshotPath(uint64_t sequence) const {
    return io::JoinPath(directory_, SnapshotFileName(sequence));
  }

  std::unique_ptr<io::MemEnv> memory_;
  io::Env* env_ = nullptr;
  std::string root_;
  std::string directory_;
};

}  // namespace tangelo::journal::testing
