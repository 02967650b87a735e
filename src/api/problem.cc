#include "api/problem.h"

#include "api/json_writer.h"
#include "base/assert.h"

namespace tangelo::api {
namespace {

constexpr ApiErrorInfo kErrors[] = {
    {500, "internal", "Internal error"},  // 0: unused.
    {400, "malformed_json", "The body is not a JSON object"},
    {400, "unknown_field", "Unknown field"},
    {400, "invalid_type", "Wrong JSON type"},
    {422, "missing_field", "Required field missing"},
    {422, "string_too_long", "String too long"},
    {422, "invalid_amount", "Invalid amount"},
    {422, "invalid_currency", "Invalid currency"},
    {422, "invalid_value", "Invalid value"},
    {400, "invalid_query", "Invalid query parameter"},
    {401, "unauthenticated", "Missing or unknown credentials"},
    {403, "forbidden", "Not allowed with these credentials"},
    {404, "not_found", "Not found"},
    {405, "method_not_allowed", "Method not allowed"},
    {409, "conflict", "Not allowed in the object's current state"},
    {409, "idempotency_in_flight", "A request with this Idempotency-Key is in flight"},
    {422, "idempotency_mismatch", "Idempotency-Key reused with a different request"},
    {400, "invalid_idempotency_key", "Invalid Idempotency-Key"},
    {422, "insufficient_funds", "Insufficient funds"},
    {422, "currency_mismatch", "Currency does not match the account"},
    {422, "limit_reached", "Capacity limit reached"},
    {429, "rate_limited", "Too many requests"},
    {503, "overloaded", "Overloaded, retry later"},
    {503, "unavailable", "Shutting down"},
    {501, "not_implemented", "Not implemented yet"},
    {500, "internal", "Internal error"},
    {415, "unsupported_media_type", "Body must be application/json"},
    {503, "idempotency_store_full", "Idempotency store full, retry later"},
};

}  // namespace

const ApiErrorInfo& ErrorInfo(ApiError error) {
  const auto index = static_cast<size_t>(error);
  TG_ASSERT(index > 0 && index < std::size(kErrors));
  return kErrors[index];
}

std::string ProblemBody(ApiError error, std::string_view detail, std::string_view instance) {
  const ApiErrorInfo& info = ErrorInfo(error);
  JsonWriter json;
  json.BeginObject();
  std::string type = "urn:tangelo:problem:";
  type += info.code;
  json.Key("type").String(type);
  json.Key("title").String(info.title);
  json.Key("status").Uint(info.status);
  json.Key("code").String(info.code);
  if (!detail.empty()) json.Key("detail").String(detail);
  json.Key("instance").String(instance);
  json.EndObject();
  return json.Take();
}

}  // namespace tangelo::api
