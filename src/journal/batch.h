// Journal batches in memory: BatchBuilder writes one batch into a caller-owned
// buffer; BatchView and EntryView read one without copying.
//
// A batch is the unit the engine makes durable: the input entries of one
// engine batch (kind + opaque payload each), its sequence number, timestamp
// and the checksum of the batch before it (the hash chain). The byte layout is
// docs/formats/journal.md (record_format.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "journal/record_format.h"

namespace tangelo::journal {

// A finished batch: its bytes (inside the builder's buffer) and its checksum,
// which the next batch carries as prev_checksum.
struct FinishedBatch {
  std::span<const std::byte> bytes;
  uint64_t checksum = 0;
};

// Builds one batch at a time in a caller-owned buffer. Adding an entry copies
// its payload once into the buffer and never allocates. The buffer must stay
// alive and unmodified while the finished bytes are in use.
// Not thread safe: one builder per writer thread.
class BatchBuilder {
 public:
  // `buffer` is where batches are built; a batch is limited to
  // min(buffer.size(), base::kJournalBatchSizeMax) bytes. Precondition: the
  // buffer holds at least an empty batch (kBatchOverheadSize bytes).
  explicit BatchBuilder(std::span<std::byte> buffer);

  // Starts a new batch, discarding any unfinished one. Precondition:
  // sequence >= kFirstSequence.
  void Reset(uint64_t sequence, uint64_t timestamp_ns, uint64_t prev_checksum);

  // Appends an entry. Returns false, leaving the batch unchanged, when the
  // payload is larger than base::kJournalEntrySizeMax or the batch would
  // exceed base::kBatchEntriesMax entries or its byte limit: the caller then
  // finishes this batch and starts the next. Preconditions: Reset was called
  // and Finish was not called since; kind != 0 (reserved).
  [[nodiscard]] bool Add(uint16_t kind, std::span<const std::byte> payload);

  // Completes the header, checksums and trailer. The returned bytes stay
  // valid until the next Reset. Precondition: Reset was called.
  FinishedBatch Finish();

  uint32_t entry_count() const { return entry_count_; }
  // Bytes the batch takes so far, counting its header and trailer.
  size_t size_bytes() const { return kBatchOverheadSize + body_size_; }
  // Largest batch this builder can produce.
  size_t capacity_bytes() const { return capacity_bytes_; }

 private:
  std::span<std::byte> buffer_;
  size_t capacity_bytes_;
  BatchHeader header_{};
  size_t body_size_ = 0;
  uint32_t entry_count_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

// One entry of a batch; `payload` points into the batch's bytes.
struct EntryView {
  uint16_t kind = 0;
  uint16_t flags = 0;
  std::span<const std::byte> payload;
};

// Why bytes are not a valid batch. Stable numbers: they appear in logs.
enum class BatchDefect : uint8_t {
  kNone = 0,
  kTruncatedHeader = 1,   // Fewer than a header's bytes.
  kBadHeader = 2,         // Header checksum, magic, version, sizes or reserved fields.
  kUnknownVersion = 3,    // Header checksum is valid but the version is not 1.
  kTruncatedBatch = 4,    // The declared extent runs past the bytes given.
  kBadBody = 5,           // Body checksum mismatch.
  kBadTrailer = 6,
  kBadEntries = 7,        // Entries do not fill the body per the format.
};

const char* BatchDefectName(BatchDefect defect);

// A zero-copy, validated view of one batch. Cheap to copy (pointers and a few
// integers); valid as long as the viewed bytes are. Thread compatible.
class BatchView {
 public:
  // Validates the batch at the start of `bytes` completely (both checksums,
  // trailer, every entry) and returns a view of it; bytes after the batch are
  // ignored. Returns the defect, or kNone with *view set. Never asserts on
  // the bytes: they come from disk.
  static BatchDefect Parse(std::span<const std::byte> bytes, BatchView* view);
  // The same, as a Status: DataLoss naming the defect.
  static base::Result<BatchView> Parse(std::span<const std::byte> bytes);

  BatchView() = default;

  uint64_t sequence() const { return header_.sequence; }
  uint64_t timestamp_ns() const { return header_.timestamp_ns; }
  uint64_t prev_checksum() const { return header_.prev_checksum; }
  // The batch's checksum (its header checksum), carried by the next batch.
  uint64_t checksum() const { return header_.header_checksum; }
  uint32_t entry_count() const { return header_.entry_count; }
  // The whole batch, header and trailer included.
  std::span<const std::byte> bytes() const { return bytes_; }

  // Forward iteration over the entries, in the order they were added.
  class Iterator {
   public:
    using value_type = EntryView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    EntryView operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const { return cursor_ == other.cursor_; }

   private:
    friend class BatchView;
    explicit Iterator(const std::byte* cursor) : cursor_(cursor) {}
    const std::byte* cursor_ = nullptr;
  };
  Iterator begin() const { return Iterator(bytes_.data() + kBatchHeaderSize); }
  Iterator end() const { return Iterator(bytes_.data() + kBatchHeaderSize + header_.body_size); }

 private:
  BatchHeader header_{};
  std::span<const std::byte> bytes_;
};

// Header-only checks shared by the parser and recovery: checksum, magic,
// version, header size, reserved zero, body size aligned and within limits,
// entry count within limits. `bytes` must hold at least kBatchHeaderSize.
BatchDefect CheckBatchHeader(std::span<const std::byte> bytes, BatchHeader* header);

}  // namespace tangelo::journal
