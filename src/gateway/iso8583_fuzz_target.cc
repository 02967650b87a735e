#include "gateway/iso8583_fuzz_target.h"

#include <array>
#include <cstring>
#include <vector>

#include "base/assert.h"
#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_framing.h"
#include "gateway/iso8583_response.h"

namespace tangelo::gateway {

namespace {

// Fuzz inputs are a few KiB; bound the frames compared per input.
constexpr size_t kFramesPerInputMax = 256;

struct FramedStream {
  std::vector<std::vector<uint8_t>> frames;
  Iso8583FrameStatus final_status = Iso8583FrameStatus::kNeedMoreBytes;
  size_t partial_bytes = 0;
};

// Feeds `data` to a reader in chunks whose sizes come from `chunk_sizes`
// (cycled); an empty list means one chunk.
FramedStream Frame(std::span<const uint8_t> data, std::span<const uint8_t> chunk_sizes) {
  FramedStream result;
  Iso8583FrameReader reader;
  size_t offset = 0, size_index = 0;
  while (true) {
    size_t chunk_size = data.size() - offset;
    if (!chunk_sizes.empty()) {
      chunk_size = std::min<size_t>(chunk_size, 1 + chunk_sizes[size_index++ % chunk_sizes.size()]);
    }
    reader.Feed(data.subspan(offset, chunk_size));
    offset += chunk_size;
    std::span<const uint8_t> frame;
    Iso8583FrameStatus status;
    while ((status = reader.Next(&frame)) == Iso8583FrameStatus::kFrame) {
      TG_ASSERT(!frame.empty() && frame.size() <= kIso8583FrameSizeMax);
      if (result.frames.size() < kFramesPerInputMax) {
        result.frames.emplace_back(frame.begin(), frame.end());
      }
    }
    result.final_status = status;
    if (status != Iso8583FrameStatus::kNeedMoreBytes || offset == data.size()) break;
  }
  result.partial_bytes = reader.failed() ? 0 : reader.partial_bytes();
  return result;
}

// Calls every typed reader; they may fail, never crash.
void ReadEverything(const Iso8583Spec& spec, const Iso8583Message& message) {
  (void)ReadPan(message);
  (void)ReadProcessingCode(message);
  (void)ReadTransactionAmount(message);
  (void)ReadTransmissionDateTime(message);
  (void)ReadStan(message);
  (void)ReadExpiry(message);
  (void)ReadMerchantCategoryCode(message);
  (void)ReadAcquirerId(message);
  (void)ReadRetrievalReferenceNumber(message);
  (void)ReadResponseCode(message);
  (void)ReadCurrency(message);
  (void)ReadAcceptorCountry(spec, message);
  (void)ReadAdditionalAmounts(message);
  (void)ReadNetworkManagementCode(message);
  (void)ReadOriginalDataElements(message);
  (void)ReadReplacementAmount(message);
  (void)ReadTraceparent(spec, message);
  const std::string description = DescribeMessage(spec, message);
  TG_ASSERT(description.size() >= 4);
  // The PAN never appears whole in a log line.
  if (message.Has(field::kPan) && message.Field(field::kPan).size() >= 8) {
    TG_ASSERT(description.find(message.Field(field::kPan)) == std::string::npos);
  }
}

// Returns true when `body` decoded.
bool CheckMessageProperty(const Iso8583Spec& spec, std::span<const uint8_t> body) {
  Iso8583Message message;
  Iso8583DecodeError error;
  const base::Status decoded = Decode(spec, body, &message, &error);
  if (!decoded.ok()) {
    TG_ASSERT(error.code != Iso8583DecodeErrorCode::kNone);
    TG_ASSERT(error.offset <= body.size());
    TG_ASSERT(!decoded.message().empty());
    return false;
  }
  TG_ASSERT(error.code == Iso8583DecodeErrorCode::kNone);

  // Canonical: re-encoding gives back the input, byte for byte.
  std::array<uint8_t, kIso8583FrameSizeMax> encoded;
  base::Result<size_t> size = Encode(spec, message, encoded);
  TG_ASSERT_MSG(size.ok(), size.status().message().c_str());
  TG_ASSERT(*size == body.size());
  TG_ASSERT(std::memcmp(encoded.data(), body.data(), body.size()) == 0);
  Iso8583Message again;
  TG_ASSERT(Decode(spec, std::span<const uint8_t>(encoded.data(), *size), &again).ok());
  TG_ASSERT(again == message);

  ReadEverything(spec, message);

  // Whatever request we can answer, the answer must encode and decode back.
  (void)CheckMessage(spec, message);
  const std::array<AdditionalAmount, 1> balance = {
      AdditionalAmount{0, kAmountTypeAvailableBalance, 840, false, 123456}};
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;
  fields.authorization_id = "A1B2C3";
  if (spec.field(field::kAdditionalAmounts) != nullptr) fields.additional_amounts = balance;
  Iso8583Message response;
  if (BuildResponse(spec, message, fields, &response).ok()) {
    std::array<uint8_t, kIso8583FrameSizeMax + kIso8583FramePrefixSize> frame;
    base::Result<size_t> frame_size = EncodeFrame(spec, response, frame);
    // A response may not fit only if the request was close to the maximum.
    TG_ASSERT(frame_size.ok() || frame_size.status().code() == base::StatusCode::kOutOfRange);
    if (frame_size.ok()) {
      TG_ASSERT(static_cast<size_t>(frame[0] << 8 | frame[1]) ==
                *frame_size - kIso8583FramePrefixSize);
      Iso8583Message decoded_response;
      const base::Status status =
          Decode(spec,
                 std::span<const uint8_t>(frame.data() + kIso8583FramePrefixSize,
                                          *frame_size - kIso8583FramePrefixSize),
                 &decoded_response);
      TG_ASSERT_MSG(status.ok(), status.message().c_str());
      TG_ASSERT(decoded_response == response);
    }
  }
  return true;
}

}  // namespace

int Iso8583FuzzOneInput(std::span<const Iso8583Spec* const> dialects,
                        std::span<const uint8_t> data) {
  // Framing: chunked feeding must agree with feeding the stream whole. The
  // chunk sizes come from the input itself so the fuzzer explores splits.
  const FramedStream whole = Frame(data, {});
  const FramedStream chunked = Frame(data, data.first(std::min<size_t>(data.size(), 16)));
  TG_ASSERT(whole.frames == chunked.frames);
  TG_ASSERT(whole.final_status == chunked.final_status);
  TG_ASSERT(whole.partial_bytes == chunked.partial_bytes);

  int decoded = 0;
  for (const Iso8583Spec* spec : dialects) {
    decoded += CheckMessageProperty(*spec, data) ? 1 : 0;
    for (const std::vector<uint8_t>& frame : whole.frames) {
      decoded += CheckMessageProperty(*spec, frame) ? 1 : 0;
    }
  }
  return decoded;
}

}  // namespace tangelo::gateway
