// Micro-benchmarks of the ISO 8583 codec on the hot path: decode a typical
// 0100, build its 0110, encode it. Target: well under 1 us per pair.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "gateway/iso8583_codec.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_framing.h"
#include "gateway/iso8583_response.h"
#include "gateway/iso8583_test_util.h"

namespace tangelo::gateway {
namespace {

// The golden 0100 (chip purchase with EMV data and a traceparent) without its
// length prefix.
std::vector<uint8_t> AuthorizationRequest() {
  std::vector<uint8_t> frame = testing::ParseHexText(testing::ReadFileOrDie(
      testing::SourcePath("tests/golden/iso8583/default_0100_authorization_request.hex")));
  return {frame.begin() + kIso8583FramePrefixSize, frame.end()};
}

void BM_Decode0100(benchmark::State& state) {
  const Iso8583Spec& spec = testing::DefaultSpec();
  const std::vector<uint8_t> request = AuthorizationRequest();
  Iso8583Message message;
  for (auto _ : state) {
    base::Status status = Decode(spec, request, &message);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(message);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(request.size()));
}
BENCHMARK(BM_Decode0100);

void BM_Encode0110(benchmark::State& state) {
  const Iso8583Spec& spec = testing::DefaultSpec();
  const std::vector<uint8_t> request_bytes = AuthorizationRequest();
  Iso8583Message request, response;
  if (!Decode(spec, request_bytes, &request).ok()) state.SkipWithError("decode failed");
  Iso8583ResponseFields fields;
  fields.response_code = Iso8583ResponseCode::kApproved;
  fields.authorization_id = "A1B2C3";
  if (!BuildResponse(spec, request, fields, &response).ok()) state.SkipWithError("build failed");
  std::array<uint8_t, kIso8583FrameSizeMax + kIso8583FramePrefixSize> out;
  for (auto _ : state) {
    base::Result<size_t> size = EncodeFrame(spec, response, out);
    benchmark::DoNotOptimize(size);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_Encode0110);

// The whole per-message codec cost of an authorization: frame, decode, read
// the fields the authorizer needs, build the response, encode it.
void BM_AuthorizationRoundTrip(benchmark::State& state) {
  const Iso8583Spec& spec = testing::DefaultSpec();
  const std::vector<uint8_t> request_bytes = AuthorizationRequest();
  std::vector<uint8_t> stream(request_bytes.size() + kIso8583FramePrefixSize);
  stream[0] = static_cast<uint8_t>(request_bytes.size() >> 8);
  stream[1] = static_cast<uint8_t>(request_bytes.size() & 0xFF);
  std::copy(request_bytes.begin(), request_bytes.end(), stream.begin() + 2);
  Iso8583FrameReader reader;
  Iso8583Message request, response;
  const AdditionalAmount balance[] = {{0, kAmountTypeAvailableBalance, 840, false, 98766}};
  std::array<uint8_t, kIso8583FrameSizeMax + kIso8583FramePrefixSize> out;
  for (auto _ : state) {
    reader.Feed(stream);
    std::span<const uint8_t> frame;
    if (reader.Next(&frame) != Iso8583FrameStatus::kFrame) {
      state.SkipWithError("framing failed");
      break;
    }
    if (!Decode(spec, frame, &request).ok() || !CheckMessage(spec, request).ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    base::Result<uint64_t> amount = ReadTransactionAmount(request);
    base::Result<uint32_t> stan = ReadStan(request);
    base::Result<uint16_t> currency = ReadCurrencyCode(request);
    base::Result<std::string_view> country = ReadAcceptorCountry(spec, request);
    benchmark::DoNotOptimize(amount);
    benchmark::DoNotOptimize(stan);
    benchmark::DoNotOptimize(currency);
    benchmark::DoNotOptimize(country);
    Iso8583ResponseFields fields;
    fields.response_code = Iso8583ResponseCode::kApproved;
    fields.authorization_id = "A1B2C3";
    fields.additional_amounts = balance;
    if (!BuildResponse(spec, request, fields, &response).ok()) {
      state.SkipWithError("build failed");
      break;
    }
    base::Result<size_t> size = EncodeFrame(spec, response, out);
    benchmark::DoNotOptimize(size);
    std::span<const uint8_t> none;
    if (reader.Next(&none) != Iso8583FrameStatus::kNeedMoreBytes) {
      state.SkipWithError("framing failed");
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_AuthorizationRoundTrip);

}  // namespace
}  // namespace tangelo::gateway
