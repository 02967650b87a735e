// libFuzzer target for the HTTP parsers: request parsing (with small limits,
// so every limit path is reachable), response heads, chunked bodies. Checks
// that nothing crashes and that results stay inside the input and limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_parser.h"

namespace {

bool Within(std::string_view inner, std::string_view outer) {
  return inner.empty() || (inner.data() >= outer.data() &&
                           inner.data() + inner.size() <= outer.data() + outer.size());
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tangelo::net;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  HttpRequestLimits limits;
  limits.request_line_bytes_max = 128;
  limits.header_bytes_max = 512;
  limits.header_count_max = 8;
  limits.body_bytes_max = 256;
  HttpRequest request;
  size_t consumed = 0;
  HttpParseError error;
  // Walk pipelined requests the way the server does.
  std::string_view rest = input;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const HttpParseStatus status = ParseHttpRequest(rest, limits, &request, &consumed, &error);
    if (status == HttpParseStatus::kError) {
      Check(error.status >= 400 && error.status <= 505 && !error.reason.empty());
      break;
    }
    if (status == HttpParseStatus::kIncomplete) break;
    Check(consumed > 0 && consumed <= rest.size());
    Check(consumed <= limits.header_bytes_max + limits.body_bytes_max);
    Check(request.headers().size() <= limits.header_count_max);
    Check(request.body().size() <= limits.body_bytes_max);
    Check(Within(request.method(), rest) && Within(request.path(), rest) &&
          Within(request.body(), rest));
    for (const HttpHeader& header : request.headers()) {
      Check(Within(header.name, rest) && Within(header.value, rest));
    }
    rest.remove_prefix(consumed);
  }

  HttpResponseHead head;
  std::string_view head_error;
  if (ParseHttpResponseHead(input, 1024, &head, &head_error) == HttpParseStatus::kComplete) {
    Check(head.head_bytes <= input.size() && head.status >= 100 && head.status <= 999);
    ChunkedDecoder decoder(4096);
    std::string body;
    size_t chunk_consumed = 0;
    std::string_view chunk_error;
    const std::string_view after = input.substr(head.head_bytes);
    const HttpParseStatus status = decoder.Feed(after, &body, &chunk_consumed, &chunk_error);
    Check(chunk_consumed <= after.size() && body.size() <= 4096);
    if (status == HttpParseStatus::kError) Check(!chunk_error.empty());
  }
  return 0;
}
