// The load generator behind `tangelo load`: drives the ISO 8583 door over TCP
// with N connections, each keeping up to D requests in flight (pipelined), in
// a closed loop (send as soon as a response frees a slot) or an open loop at a
// fixed total rate. Open-loop latency is measured from each request's
// INTENDED send time, not from when it was actually written, so a stalled
// server shows up in the percentiles instead of silently slowing the load
// (coordinated omission).
//
// Workload: 0100 purchases on the PANs TestPan-style serials name (the
// server's cards must exist: `card_serial_first` .. + `card_count`), a share
// of purchases on an unknown PAN (declined 14 without touching a card), and a
// share of 0400 full reversals of earlier approved purchases on the same
// connection.
//
// Not done: the REST door (POST /v1/simulate/authorizations, GET balance);
// see docs/gateway/README.md.
//
// Thread safety: RunLoad runs one thread per connection plus the caller's
// (progress line); it is a blocking call, not reentrant state.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/status.h"
#include "gateway/iso8583_spec.h"

namespace tangelo::gateway {

inline constexpr uint32_t kLoadConnectionsMax = 1024;
inline constexpr uint32_t kLoadDepthMax = 4096;
inline constexpr uint32_t kLoadDurationSecondsMax = 24 * 3600;

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                  // Required.
  const Iso8583Spec* spec = nullptr;  // Required: the server's dialect.
  uint32_t connections = 4;           // 1..kLoadConnectionsMax.
  uint32_t depth = 64;                // Requests in flight per connection, 1..kLoadDepthMax.
  double duration_seconds = 10;       // > 0, at most kLoadDurationSecondsMax.
  uint64_t rate_per_second = 0;       // 0: closed loop; else open loop at this total rate.
  uint32_t decline_percent = 0;       // Share of requests on an unknown PAN.
  uint32_t reversal_percent = 0;      // Share of requests that reverse an approval.
  uint64_t card_serial_first = 1;     // PAN = 411111 + serial (9 digits) + Luhn.
  uint32_t card_count = 1;            // Cards the workload spreads over, >= 1.
  uint64_t amount_minor = 100;        // Per purchase, in field 49's currency.
  uint16_t currency_numeric = 840;
  bool progress = true;  // A progress line on stderr each second.
  uint64_t seed = 1;
};

// What a run measured.
struct LoadReport {
  uint64_t sent = 0;
  uint64_t answered = 0;
  uint64_t approved = 0;  // Response code 00 (and 10).
  double elapsed_seconds = 0;
  double throughput_per_second = 0;                // Answered per second.
  std::map<std::string, uint64_t> errors;          // Kind -> count (connect, closed, ...).
  std::map<std::string, uint64_t> response_codes;  // Field 39 -> count.
  uint64_t latency_p50_ns = 0;
  uint64_t latency_p99_ns = 0;
  uint64_t latency_p999_ns = 0;
  uint64_t latency_max_ns = 0;

  // One JSON line (no newline).
  std::string ToJson(const LoadOptions& options) const;
};

// The PAN of a load-generator card serial: "411111", the serial in nine
// digits, and the Luhn check digit (the same as the authorizer test PANs).
std::string LoadCardPan(uint64_t serial);

// Runs the load; blocks for the duration (plus up to 2 s to collect the last
// responses). Errors: kInvalidArgument for options out of range; kIoError
// when no connection could be made at all.
base::Result<LoadReport> RunLoad(const LoadOptions& options);

}  // namespace tangelo::gateway
