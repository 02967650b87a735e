// Micro-benchmarks of the HTTP hot path: parsing a typical API request and
// serialising its response, without sockets.
#include <string>

#include "benchmark/benchmark.h"
#include "net/http_parser.h"

namespace tangelo::net {
namespace {

const std::string kGetRequest =
    "GET /v1/accounts/acc_1234567890/balance HTTP/1.1\r\n"
    "Host: api.tangelo.local\r\n"
    "User-Agent: wrk/4.2\r\n"
    "Accept: application/json\r\n"
    "Authorization: Bearer tg_live_0123456789abcdef0123456789abcdef\r\n"
    "X-Request-Id: 7d1f0c2e-98a4-4a53-9d4b-0e5c2b1f6a77\r\n"
    "\r\n";

void BM_ParseGetRequest(benchmark::State& state) {
  HttpRequest request;
  HttpRequestLimits limits;
  for (auto _ : state) {
    size_t consumed = 0;
    HttpParseError error;
    const HttpParseStatus status =
        ParseHttpRequest(kGetRequest, limits, &request, &consumed, &error);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(request.Header("authorization"));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kGetRequest.size()));
}
BENCHMARK(BM_ParseGetRequest);

void BM_SerializeJsonResponse(benchmark::State& state) {
  const std::string body =
      "{\"account_id\":\"acc_1234567890\",\"currency\":\"USD\",\"posted\":\"1250.00\","
      "\"pending\":\"35.10\",\"available\":\"1214.90\"}";
  std::string out;
  out.reserve(512);
  HttpResponseOptions options;
  options.content_type = "application/json";
  for (auto _ : state) {
    out.clear();
    SerializeHttpResponse(200, body, options, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_SerializeJsonResponse);

}  // namespace
}  // namespace tangelo::net
