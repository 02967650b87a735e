#include "journal/batch.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "base/assert.h"

namespace tangelo::journal {

BatchBuilder::BatchBuilder(std::span<std::byte> buffer)
    : buffer_(buffer),
      capacity_bytes_(static_cast<size_t>(std::min<uint64_t>(buffer.size(),
                                                              base::kJournalBatchSizeMax)) &
                      ~(kRecordAlignment - 1)) {
  TG_ASSERT_MSG(capacity_bytes_ >= kBatchOverheadSize, "batch buffer smaller than an empty batch");
}

void BatchBuilder::Reset(uint64_t sequence, uint64_t timestamp_ns, uint64_t prev_checksum) {
  TG_ASSERT(sequence >= kFirstSequence);
  header_ = BatchHeader{};
  header_.magic = kBatchMagic;
  header_.format_version = kFormatVersion;
  header_.header_size = static_cast<uint16_t>(kBatchHeaderSize);
  header_.sequence = sequence;
  header_.timestamp_ns = timestamp_ns;
  header_.prev_checksum = prev_checksum;
  body_size_ = 0;
  entry_count_ = 0;
  started_ = true;
  finished_ = false;
}

bool BatchBuilder::Add(uint16_t kind, std::span<const std::byte> payload) {
  TG_ASSERT_MSG(started_ && !finished_, "BatchBuilder::Add outside Reset..Finish");
  TG_ASSERT_MSG(kind != 0, "entry kind 0 is reserved");
  if (payload.size() > base::kJournalEntrySizeMax) return false;
  if (entry_count_ >= base::kBatchEntriesMax) return false;
  const size_t padded = PaddedEntrySize(payload.size());
  if (kBatchOverheadSize + body_size_ + padded > capacity_bytes_) return false;

  std::byte* entry = buffer_.data() + kBatchHeaderSize + body_size_;
  const EntryHeader entry_header{kind, 0, static_cast<uint32_t>(payload.size())};
  std::memcpy(entry, &entry_header, kEntryHeaderSize);
  if (!payload.empty()) std::memcpy(entry + kEntryHeaderSize, payload.data(), payload.size());
  // Padding is written explicitly: the buffer may hold an earlier batch, and
  // the format requires zero padding.
  const size_t used = kEntryHeaderSize + payload.size();
  std::memset(entry + used, 0, padded - used);
  body_size_ += padded;
  ++entry_count_;
  return true;
}

FinishedBatch BatchBuilder::Finish() {
  TG_ASSERT_MSG(started_, "BatchBuilder::Finish before Reset");
  const size_t total = kBatchOverheadSize + body_size_;
  TG_ASSERT(total <= capacity_bytes_);
  if (!finished_) {
    header_.entry_count = entry_count_;
    header_.body_size = static_cast<uint32_t>(body_size_);
    header_.body_checksum = base::Checksum(buffer_.data() + kBatchHeaderSize, body_size_);
    header_.header_checksum = ComputeChecksum(header_);
    std::memcpy(buffer_.data(), &header_, kBatchHeaderSize);
    const BatchTrailer trailer{kBatchTrailerMagic};
    std::memcpy(buffer_.data() + kBatchHeaderSize + body_size_, &trailer, kBatchTrailerSize);
    finished_ = true;
  }
  return FinishedBatch{std::span<const std::byte>(buffer_.data(), total), header_.header_checksum};
}

const char* BatchDefectName(BatchDefect defect) {
  switch (defect) {
    case BatchDefect::kNone: return "none";
    case BatchDefect::kTruncatedHeader: return "truncated header";
    case BatchDefect::kBadHeader: return "bad header";
    case BatchDefect::kUnknownVersion: return "unknown format version";
    case BatchDefect::kTruncatedBatch: return "truncated batch";
    case BatchDefect::kBadBody: return "body checksum mismatch";
    case BatchDefect::kBadTrailer: return "bad trailer";
    case BatchDefect::kBadEntries: return "malformed entries";
  }
  return "unknown defect";
}

BatchDefect CheckBatchHeader(std::span<const std::byte> bytes, BatchHeader* header) {
  if (bytes.size() < kBatchHeaderSize) return BatchDefect::kTruncatedHeader;
  *header = LoadRecord<BatchHeader>(bytes.data());
  if (ComputeChecksum(*header) != header->header_checksum) return BatchDefect::kBadHeader;
  if (header->magic != kBatchMagic) return BatchDefect::kBadHeader;
  if (header->format_version != kFormatVersion) return BatchDefect::kUnknownVersion;
  if (header->header_size != kBatchHeaderSize || header->reserved != 0) {
    return BatchDefect::kBadHeader;
  }
  if (header->body_size % kRecordAlignment != 0) return BatchDefect::kBadHeader;
  if (BatchSize(*header) > base::kJournalBatchSizeMax) return BatchDefect::kBadHeader;
  if (header->entry_count > base::kBatchEntriesMax) return BatchDefect::kBadHeader;
  if (uint64_t{header->entry_count} * kEntryHeaderSize > header->body_size) {
    return BatchDefect::kBadHeader;
  }
  return BatchDefect::kNone;
}

namespace {

// Walks the entries of a body whose checksum already matched: a failure here
// means the writer was wrong or the bytes were crafted, never a torn write.
bool EntriesFillBody(const std::byte* body, uint32_t body_size, uint32_t entry_count) {
  size_t offset = 0;
  for (uint32_t index = 0; index < entry_count; ++index) {
    if (body_size - offset < kEntryHeaderSize) return false;
    const EntryHeader entry = LoadRecord<EntryHeader>(body + offset);
    if (entry.kind == 0 || entry.flags != 0 || entry.size > base::kJournalEntrySizeMax) {
      return false;
    }
    const size_t padded = PaddedEntrySize(entry.size);
    if (padded > body_size - offset) return false;
    for (size_t pad = kEntryHeaderSize + entry.size; pad < padded; ++pad) {
      if (body[offset + pad] != std::byte{0}) return false;
    }
    offset += padded;
  }
  return offset == body_size;
}

}  // namespace

BatchDefect BatchView::Parse(std::span<const std::byte> bytes, BatchView* view) {
  BatchHeader header;
  const BatchDefect header_defect = CheckBatchHeader(bytes, &header);
  if (header_defect != BatchDefect::kNone) return header_defect;
  const uint64_t total = BatchSize(header);
  if (bytes.size() < total) return BatchDefect::kTruncatedBatch;
  const std::byte* body = bytes.data() + kBatchHeaderSize;
  if (base::Checksum(body, header.body_size) != header.body_checksum) return BatchDefect::kBadBody;
  const BatchTrailer trailer = LoadRecord<BatchTrailer>(body + header.body_size);
  if (trailer.magic != kBatchTrailerMagic) return BatchDefect::kBadTrailer;
  if (!EntriesFillBody(body, header.body_size, header.entry_count)) {
    return BatchDefect::kBadEntries;
  }
  view->header_ = header;
  view->bytes_ = bytes.first(static_cast<size_t>(total));
  return BatchDefect::kNone;
}

base::Result<BatchView> BatchView::Parse(std::span<const std::byte> bytes) {
  BatchView view;
  const BatchDefect defect = Parse(bytes, &view);
  if (defect != BatchDefect::kNone) {
    return base::DataLoss(std::string("invalid journal batch: ") + BatchDefectName(defect));
  }
  return view;
}

EntryView BatchView::Iterator::operator*() const {
  const EntryHeader entry = LoadRecord<EntryHeader>(cursor_);
  return EntryView{entry.kind, entry.flags,
                   std::span<const std::byte>(cursor_ + kEntryHeaderSize, entry.size)};
}

BatchView::Iterator& BatchView::Iterator::operator++() {
  const EntryHeader entry = LoadRecord<EntryHeader>(cursor_);
  cursor_ += PaddedEntrySize(entry.size);
  return *this;
}

}  // namespace tangelo::journal
