// On-disk record layouts of the journal and snapshots, format version 1.
//
// The specification is docs/formats/journal.md; these structs mirror its
// tables field for field. They are read and written with memcpy (never by
// casting a pointer into a buffer), so alignment of the bytes on disk does not
// matter. Every struct is static_asserted for its size, its standard layout
// and the absence of padding, so a field added here without updating the
// document fails to compile.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>

#include "base/checksum.h"
#include "base/limits.h"

namespace tangelo::journal {

static_assert(std::endian::native == std::endian::little,
              "the journal format is little-endian and is read with memcpy");

inline constexpr uint16_t kFormatVersion = 1;

// Sequences start here; the batch before the first one has checksum 0.
inline constexpr uint64_t kFirstSequence = 1;
inline constexpr uint64_t kChainStartChecksum = 0;

inline constexpr uint32_t kSegmentMagic = 0x534A4754;            // "TGJS"
inline constexpr uint32_t kBatchMagic = 0x424A4754;              // "TGJB"
inline constexpr uint64_t kBatchTrailerMagic = 0x21444E45424A4754;  // "TGJBEND!"
inline constexpr uint32_t kSnapshotMagic = 0x4E534754;           // "TGSN"
inline constexpr uint32_t kSnapshotFooterMagic = 0x464E5347;     // "GSNF"

// Every batch and entry starts 8-byte aligned within its segment.
inline constexpr size_t kRecordAlignment = 8;

struct SegmentHeader {
  uint32_t magic;
  uint16_t format_version;
  uint16_t header_size;
  uint64_t header_checksum;  // Self-checksum: this field is zero while hashing.
  uint64_t first_sequence;
  uint64_t prev_checksum;
  uint64_t reserved[4];
};

struct BatchHeader {
  uint32_t magic;
  uint16_t format_version;
  uint16_t header_size;
  uint64_t header_checksum;  // Self-checksum; also the checksum of the batch.
  uint64_t body_checksum;
  uint64_t sequence;
  uint64_t timestamp_ns;
  uint32_t entry_count;
  uint32_t body_size;
  uint64_t prev_checksum;
  uint64_t reserved;
};

struct BatchTrailer {
  uint64_t magic;  // kBatchTrailerMagic: never zero, so a zeroed end is a torn write.
};

struct EntryHeader {
  uint16_t kind;  // Never 0: a zero-filled region cannot parse as an entry.
  uint16_t flags;  // Zero in version 1.
  uint32_t size;   // Payload bytes, without padding.
};

struct SnapshotHeader {
  uint32_t magic;
  uint16_t format_version;
  uint16_t header_size;
  uint64_t header_checksum;  // Self-checksum.
  uint64_t sequence;
  uint64_t last_batch_checksum;
  uint64_t reserved[4];
};

struct SnapshotFooter {
  uint64_t payload_size;
  uint64_t payload_checksum;
  uint32_t magic;
  uint32_t reserved;
  uint64_t footer_checksum;  // Self-checksum seeded with the header checksum.
};

static_assert(sizeof(SegmentHeader) == 64 && std::has_unique_object_representations_v<SegmentHeader>);
static_assert(sizeof(BatchHeader) == 64 && std::has_unique_object_representations_v<BatchHeader>);
static_assert(sizeof(BatchTrailer) == 8 && std::has_unique_object_representations_v<BatchTrailer>);
static_assert(sizeof(EntryHeader) == 8 && std::has_unique_object_representations_v<EntryHeader>);
static_assert(sizeof(SnapshotHeader) == 64 &&
              std::has_unique_object_representations_v<SnapshotHeader>);
static_assert(sizeof(SnapshotFooter) == 32 &&
              std::has_unique_object_representations_v<SnapshotFooter>);
static_assert(std::is_standard_layout_v<SegmentHeader> && std::is_standard_layout_v<BatchHeader> &&
              std::is_standard_layout_v<EntryHeader> && std::is_standard_layout_v<SnapshotHeader> &&
              std::is_standard_layout_v<SnapshotFooter>);
static_assert(offsetof(BatchHeader, header_checksum) == 8 && offsetof(BatchHeader, sequence) == 24 &&
              offsetof(BatchHeader, entry_count) == 40 && offsetof(BatchHeader, prev_checksum) == 48);
static_assert(offsetof(SegmentHeader, first_sequence) == 16);
static_assert(offsetof(SnapshotFooter, footer_checksum) == 24);

inline constexpr size_t kSegmentHeaderSize = sizeof(SegmentHeader);
inline constexpr size_t kBatchHeaderSize = sizeof(BatchHeader);
inline constexpr size_t kBatchTrailerSize = sizeof(BatchTrailer);
inline constexpr size_t kEntryHeaderSize = sizeof(EntryHeader);
inline constexpr size_t kSnapshotHeaderSize = sizeof(SnapshotHeader);
inline constexpr size_t kSnapshotFooterSize = sizeof(SnapshotFooter);
// Header plus trailer: the bytes of a batch with no entries.
inline constexpr size_t kBatchOverheadSize = kBatchHeaderSize + kBatchTrailerSize;

static_assert(base::kJournalBatchSizeMax <= UINT32_MAX, "body_size is a u32");
static_assert(kBatchOverheadSize + kEntryHeaderSize + base::kJournalEntrySizeMax <=
                  base::kJournalBatchSizeMax,
              "the largest entry must fit a batch");

// Bytes an entry with `payload_size` bytes of payload takes in a body.
constexpr size_t PaddedEntrySize(size_t payload_size) {
  return (kEntryHeaderSize + payload_size + kRecordAlignment - 1) & ~(kRecordAlignment - 1);
}

// Total bytes of the batch whose (valid) header is `header`.
inline uint64_t BatchSize(const BatchHeader& header) {
  return kBatchOverheadSize + uint64_t{header.body_size};
}

// Bytes of a batch of `entry_count` entries of `payload_size` bytes each.
// Lets a caller static_assert that its largest batch fits
// base::kJournalBatchSizeMax, e.g.
// static_assert(BatchSizeFor(kBatchEntriesMax, kMyPayloadMax) <= kJournalBatchSizeMax).
constexpr uint64_t BatchSizeFor(uint64_t entry_count, uint64_t payload_size) {
  return kBatchOverheadSize + entry_count * PaddedEntrySize(payload_size);
}
// So BatchBuilder::Add can only refuse a batch that is full by count or by a
// caller's smaller buffer, never a full batch of the largest entries.
static_assert(BatchSizeFor(base::kBatchEntriesMax, base::kJournalEntrySizeMax) <=
                  base::kJournalBatchSizeMax,
              "a full batch of the largest entries must fit one journal batch");

// Self-checksum of a fixed-size record: the checksum of its bytes with the
// checksum field (at `checksum_offset`, 8 bytes) taken as zero.
template <typename Record>
uint64_t SelfChecksum(const Record& record, size_t checksum_offset, uint64_t seed = 0) {
  static_assert(std::is_trivially_copyable_v<Record>);
  std::byte bytes[sizeof(Record)];
  std::memcpy(bytes, &record, sizeof(Record));
  std::memset(bytes + checksum_offset, 0, sizeof(uint64_t));
  return base::Checksum(bytes, sizeof(Record), seed);
}

inline uint64_t ComputeChecksum(const SegmentHeader& header) {
  return SelfChecksum(header, offsetof(SegmentHeader, header_checksum));
}
inline uint64_t ComputeChecksum(const BatchHeader& header) {
  return SelfChecksum(header, offsetof(BatchHeader, header_checksum));
}
inline uint64_t ComputeChecksum(const SnapshotHeader& header) {
  return SelfChecksum(header, offsetof(SnapshotHeader, header_checksum));
}
inline uint64_t ComputeChecksum(const SnapshotFooter& footer, uint64_t header_checksum) {
  return SelfChecksum(footer, offsetof(SnapshotFooter, footer_checksum), header_checksum);
}

// Reads a record from possibly unaligned bytes. Precondition: enough bytes.
template <typename Record>
Record LoadRecord(const std::byte* bytes) {
  Record record;
  std::memcpy(&record, bytes, sizeof(Record));
  return record;
}

// The bytes of a record, to append. The dual of LoadRecord.
template <typename Record>
std::array<std::byte, sizeof(Record)> StoreRecord(const Record& record) {
  static_assert(std::is_trivially_copyable_v<Record>);
  std::array<std::byte, sizeof(Record)> bytes;
  std::memcpy(bytes.data(), &record, sizeof(Record));
  return bytes;
}

// File names: the sequence as 20 zero-padded digits, so names sort by sequence.
std::string SegmentFileName(uint64_t first_sequence);   // journal-<20 digits>.log
std::string SnapshotFileName(uint64_t sequence);        // snapshot-<20 digits>.snap
// Parse a file name back; false when `name` is not of that kind.
bool ParseSegmentFileName(const std::string& name, uint64_t* first_sequence);
bool ParseSnapshotFileName(const std::string& name, uint64_t* sequence);

}  // namespace tangelo::journal
