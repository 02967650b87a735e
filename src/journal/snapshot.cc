#include "journal/snapshot.h"

#include <cstring>
#include <memory>

#include "base/assert.h"
#include "base/checksum.h"
#include "journal/files.h"

namespace tangelo::journal {
namespace {

std::string BaseNameOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Gathers the producer's chunks into large appends and checksums them.
class PayloadStream {
 public:
  explicit PayloadStream(io::WritableFile& file)
      : file_(file), buffer_(std::make_unique_for_overwrite<std::byte[]>(kSnapshotWriteBufferBytes)) {}

  base::Status Add(std::span<const std::byte> chunk) {
    // A producer that ignored an earlier error gets it again.
    if (!status_.ok()) return status_;
    if (chunk.size() > kSnapshotPayloadSizeMax - payload_size_) {
      status_ = base::ResourceExhausted("snapshot payload exceeds kSnapshotPayloadSizeMax");
      return status_;
    }
    checksum_.Update(chunk.data(), chunk.size());
    payload_size_ += chunk.size();
    if (chunk.size() <= kSnapshotWriteBufferBytes - used_) {
      if (!chunk.empty()) std::memcpy(buffer_.get() + used_, chunk.data(), chunk.size());
      used_ += chunk.size();
      return base::Status::Ok();
    }
    status_ = Flush();
    if (!status_.ok()) return status_;
    if (chunk.size() >= kSnapshotWriteBufferBytes) {
      status_ = file_.Append(chunk);  // Large chunks go straight through.
    } else {
      std::memcpy(buffer_.get(), chunk.data(), chunk.size());
      used_ = chunk.size();
    }
    return status_;
  }

  base::Status Flush() {
    if (used_ == 0) return base::Status::Ok();
    base::Status status = file_.Append(std::span<const std::byte>(buffer_.get(), used_));
    used_ = 0;
    return status;
  }

  const base::Status& status() const { return status_; }
  uint64_t payload_size() const { return payload_size_; }
  uint64_t payload_checksum() const { return checksum_.Digest(); }

 private:
  io::WritableFile& file_;
  std::unique_ptr<std::byte[]> buffer_;
  size_t used_ = 0;
  uint64_t payload_size_ = 0;
  base::StreamingChecksum checksum_;
  base::Status status_;
};

// Keeps the newest kSnapshotsKept snapshots, removes leftover temporaries,
// and deletes the segments wholly covered by the oldest kept snapshot.
base::Status ApplyRetention(io::Env& env, const std::string& directory, SnapshotWriteStats* stats) {
  auto snapshots = ListSnapshots(env, directory);
  if (!snapshots.ok()) return snapshots.status();
  auto temporaries = ListSnapshotTemporaries(env, directory);
  if (!temporaries.ok()) return temporaries.status();
  bool removed_any = false;
  for (const std::string& name : *temporaries) {
    TG_RETURN_IF_ERROR(env.RemoveFile(io::JoinPath(directory, name)));
    removed_any = true;
  }
  while (snapshots->size() > kSnapshotsKept) {
    TG_RETURN_IF_ERROR(env.RemoveFile(snapshots->front().path));
    snapshots->erase(snapshots->begin());
    ++stats->snapshots_deleted;
    removed_any = true;
  }
  if (snapshots->size() == kSnapshotsKept) {
    const uint64_t covered_sequence = snapshots->front().sequence;
    auto segments = ListSegments(env, directory);
    if (!segments.ok()) return segments.status();
    // A segment ends where the next begins; the newest segment's end is
    // unknown (it may be being written), so it is never deleted.
    for (size_t index = 0; index + 1 < segments->size(); ++index) {
      const uint64_t last_sequence = (*segments)[index + 1].first_sequence - 1;
      if (last_sequence > covered_sequence) break;
      TG_RETURN_IF_ERROR(env.RemoveFile((*segments)[index].path));
      ++stats->segments_deleted;
      removed_any = true;
    }
  }
  if (removed_any) TG_RETURN_IF_ERROR(env.SyncDir(directory));
  return base::Status::Ok();
}

}  // namespace

base::Status WriteSnapshot(io::Env& env, const std::string& directory, uint64_t sequence,
                           uint64_t last_batch_checksum, const SnapshotProducer& producer,
                           SnapshotWriteStats* stats) {
  SnapshotWriteStats ignored_stats;
  if (stats == nullptr) stats = &ignored_stats;
  *stats = SnapshotWriteStats{};
  TG_RETURN_IF_ERROR(env.CreateDir(directory));
  const std::string final_path = io::JoinPath(directory, SnapshotFileName(sequence));
  const std::string temporary_path = final_path + ".tmp";
  auto file = env.NewWritableFile(temporary_path);
  if (!file.ok()) return file.status();

  SnapshotHeader header{};
  header.magic = kSnapshotMagic;
  header.format_version = kFormatVersion;
  header.header_size = static_cast<uint16_t>(kSnapshotHeaderSize);
  header.sequence = sequence;
  header.last_batch_checksum = last_batch_checksum;
  header.header_checksum = ComputeChecksum(header);
  TG_RETURN_IF_ERROR((*file)->Append(StoreRecord(header)));

  PayloadStream stream(**file);
  const SnapshotSink sink = [&stream](std::span<const std::byte> chunk) {
    return stream.Add(chunk);
  };
  base::Status produced = producer(sink);
  if (produced.ok()) produced = stream.status();
  if (produced.ok()) produced = stream.Flush();
  if (!produced.ok()) {
    // Nothing was published; the temporary is removed now or by the next
    // snapshot's retention.
    (*file)->Close().IgnoreError();
    env.RemoveFile(temporary_path).IgnoreError();
    return produced;
  }

  SnapshotFooter footer{};
  footer.payload_size = stream.payload_size();
  footer.payload_checksum = stream.payload_checksum();
  footer.magic = kSnapshotFooterMagic;
  footer.footer_checksum = ComputeChecksum(footer, header.header_checksum);
  TG_RETURN_IF_ERROR((*file)->Append(StoreRecord(footer)));
  const uint64_t expected_size = kSnapshotHeaderSize + footer.payload_size + kSnapshotFooterSize;
  TG_ASSERT_MSG((*file)->Size() == expected_size, "snapshot size does not match what was written");
  TG_RETURN_IF_ERROR((*file)->Sync());
  TG_RETURN_IF_ERROR((*file)->Close());
  TG_RETURN_IF_ERROR(env.Rename(temporary_path, final_path));
  TG_RETURN_IF_ERROR(env.SyncDir(directory));
  stats->payload_bytes = footer.payload_size;
  return ApplyRetention(env, directory, stats);
}

base::Result<Snapshot> ReadSnapshot(io::Env& env, const std::string& path) {
  uint64_t name_sequence = 0;
  if (!ParseSnapshotFileName(BaseNameOf(path), &name_sequence)) {
    return base::InvalidArgument("not a snapshot file name: " + path);
  }
  auto size = env.FileSize(path);
  if (!size.ok()) return size.status();
  constexpr uint64_t kFramingSize = kSnapshotHeaderSize + kSnapshotFooterSize;
  if (*size < kFramingSize) {
    return DataLossAt("snapshot", path, 0, "file of " + std::to_string(*size) +
                                               " bytes is shorter than its header and footer");
  }
  if (*size - kFramingSize > kSnapshotPayloadSizeMax) {
    return DataLossAt("snapshot", path, 0, "payload larger than kSnapshotPayloadSizeMax");
  }
  Snapshot snapshot;
  TG_RETURN_IF_ERROR(env.ReadFile(path, &snapshot.file));
  if (snapshot.file.size() != *size) {
    return base::IoError("snapshot " + path + " changed size while being read");
  }

  const SnapshotHeader header = LoadRecord<SnapshotHeader>(snapshot.file.data());
  if (ComputeChecksum(header) != header.header_checksum || header.magic != kSnapshotMagic ||
      header.header_size != kSnapshotHeaderSize) {
    return DataLossAt("snapshot", path, 0, "bad header");
  }
  for (const uint64_t reserved : header.reserved) {
    if (reserved != 0) return DataLossAt("snapshot", path, 0, "reserved header bytes not zero");
  }
  if (header.format_version != kFormatVersion) {
    return DataLossAt("snapshot", path, 4,
                      "unknown format version " + std::to_string(header.format_version));
  }
  if (header.sequence != name_sequence) {
    return DataLossAt("snapshot", path, offsetof(SnapshotHeader, sequence),
                      "header sequence " + std::to_string(header.sequence) +
                          " does not match the file name");
  }

  const uint64_t footer_offset = *size - kSnapshotFooterSize;
  const SnapshotFooter footer =
      LoadRecord<SnapshotFooter>(snapshot.file.data() + static_cast<size_t>(footer_offset));
  if (ComputeChecksum(footer, header.header_checksum) != footer.footer_checksum ||
      footer.magic != kSnapshotFooterMagic || footer.reserved != 0) {
    return DataLossAt("snapshot", path, footer_offset, "bad footer");
  }
  if (footer.payload_size != *size - kFramingSize) {
    return DataLossAt("snapshot", path, footer_offset,
                      "footer declares " + std::to_string(footer.payload_size) +
                          " payload bytes, the file holds " + std::to_string(*size - kFramingSize));
  }
  snapshot.sequence = header.sequence;
  snapshot.last_batch_checksum = header.last_batch_checksum;
  snapshot.payload_size = footer.payload_size;
  const std::span<const std::byte> payload = snapshot.payload();
  if (base::Checksum(payload) != footer.payload_checksum) {
    return DataLossAt("snapshot", path, kSnapshotHeaderSize, "payload checksum mismatch");
  }
  return snapshot;
}

}  // namespace tangelo::journal
