// Problem details (RFC 9457, application/problem+json) and the catalog of
// the API's error codes. Every non-2xx answer of the API is one of these;
// each code has a fixed HTTP status and title, listed in docs/api/errors.md.
// The numbers are stable (metrics label by them); never renumber.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tangelo::api {

enum class ApiError : uint16_t {
  kMalformedJson = 1,         // 400: the body is not one JSON object.
  kUnknownField = 2,          // 400: a field the operation does not define.
  kInvalidType = 3,           // 400: a field of the wrong JSON type.
  kMissingField = 4,          // 422: a required field is absent.
  kStringTooLong = 5,         // 422: a string over its documented maximum.
  kInvalidAmount = 6,         // 422: not an integer in 1..999999999999 minor units.
  kInvalidCurrency = 7,       // 422: not an ISO 4217 alphabetic code we know.
  kInvalidValue = 8,          // 422: a value outside its enumeration or range.
  kInvalidQuery = 9,          // 400: a bad query parameter (filter, limit, cursor).
  kUnauthenticated = 10,      // 401: no or unknown credentials.
  kForbidden = 11,            // 403: valid credentials without the right (admin vs tenant).
  kNotFound = 12,             // 404: absent, or another tenant's.
  kMethodNotAllowed = 13,     // 405.
  kConflict = 14,             // 409: a transition the object does not allow.
  kIdempotencyInFlight = 15,  // 409: the first request with this key is still running.
  kIdempotencyMismatch = 16,  // 422: the key was used with a different request.
  kInvalidIdempotencyKey = 17,  // 400: empty or over 255 bytes, or not visible ASCII.
  kInsufficientFunds = 18,    // 422: a debit over the available balance.
  kCurrencyMismatch = 19,     // 422: the amount's currency is not the account's.
  kLimitReached = 20,         // 422: a per-tenant capacity is full.
  kRateLimited = 21,          // 429: over the tenant's request rate (Retry-After).
  kOverloaded = 22,           // 503: the core's intake is full (Retry-After).
  kUnavailable = 23,          // 503: shutting down.
  kNotImplemented = 24,       // 501: an endpoint of a later milestone.
  kInternal = 25,             // 500.
  kUnsupportedMediaType = 26, // 415: a body that is not application/json.
  kIdempotencyStoreFull = 27, // 503: too many idempotent requests remembered (Retry-After).
};

struct ApiErrorInfo {
  uint16_t status;
  std::string_view code;   // Stable snake_case string: the problem's "code" member.
  std::string_view title;  // Short, constant, human-readable summary.
};

const ApiErrorInfo& ErrorInfo(ApiError error);

// The problem+json body: type (a stable URN per code), title, status, code,
// detail (which may name a field; never echoes secrets), and instance (the
// request path).
std::string ProblemBody(ApiError error, std::string_view detail, std::string_view instance);

}  // namespace tangelo::api
