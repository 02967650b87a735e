#include "api/api_server.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "api/json_input.h"
#include "api/json_writer.h"
#include "api/render.h"

namespace tangelo::api {
namespace {

// Routes. The numbers only index the table below; they are not an interface.
enum Route : uint32_t {
  kCreateTenant, kGetTenant, kCreateApiKey, kListApiKeys, kRevokeApiKey,
  kCreateProgram, kGetProgram,
  kCreateUser, kGetUser, kSetUserStatus,
  kCreateAccount, kGetAccount, kGetBalance, kCreditAccount, kDebitAccount,
  kCreateCard, kGetCard, kSetCardStatus, kSetCardControls,
  kGetAuthorization, kListTransactions,
  kCreateWebhook, kListWebhooks, kGetWebhook, kDeleteWebhook,
  kSimulateAuthorization, kSimulateReversal, kSimulateClearing, kSimulateRefund,
  kRouteCount,
};

struct RouteDef {
  std::string_view method;
  std::string_view pattern;
  bool admin;
};

constexpr RouteDef kRoutes[kRouteCount] = {
    {"POST", "/v1/tenants", true},
    {"GET", "/v1/tenants/{}", true},
    {"POST", "/v1/tenants/{}/api_keys", true},
    {"GET", "/v1/tenants/{}/api_keys", true},
    {"DELETE", "/v1/tenants/{}/api_keys/{}", true},
    {"POST", "/v1/programs", false},
    {"GET", "/v1/programs/{}", false},
    {"POST", "/v1/users", false},
    {"GET", "/v1/users/{}", false},
    {"POST", "/v1/users/{}/status", false},
    {"POST", "/v1/accounts", false},
    {"GET", "/v1/accounts/{}", false},
    {"GET", "/v1/accounts/{}/balance", false},
    {"POST", "/v1/accounts/{}/credits", false},
    {"POST", "/v1/accounts/{}/debits", false},
    {"POST", "/v1/cards", false},
    {"GET", "/v1/cards/{}", false},
    {"POST", "/v1/cards/{}/status", false},
    {"PUT", "/v1/cards/{}/controls", false},
    {"GET", "/v1/authorizations/{}", false},
    {"GET", "/v1/transactions", false},
    {"POST", "/v1/webhook_endpoints", false},
    {"GET", "/v1/webhook_endpoints", false},
    {"GET", "/v1/webhook_endpoints/{}", false},
    {"DELETE", "/v1/webhook_endpoints/{}", false},
    {"POST", "/v1/simulate/authorizations", false},
    {"POST", "/v1/simulate/reversals", false},
    {"POST", "/v1/simulate/clearings", false},
    {"POST", "/v1/simulate/refunds", false},
};

// Body field lists, one per operation that takes a body.
constexpr FieldSpec kNameOnly[] = {Field("name", FieldType::kString, true, kNameLengthMax)};
constexpr FieldSpec kEmpty[] = {Field("_", FieldType::kBool)};  // Matches nothing real.
constexpr FieldSpec kProgramFields[] = {
    Field("name", FieldType::kString, true, kNameLengthMax),
    Field("currency", FieldType::kCurrency, true),
};
constexpr FieldSpec kUserFields[] = {Field("name", FieldType::kString, false, kNameLengthMax)};
constexpr FieldSpec kStatusFields[] = {Field("status", FieldType::kString, true, 16)};
constexpr FieldSpec kAccountFields[] = {
    Field("program_id", FieldType::kId, true, 0, UINT64_MAX, kProgramPrefix),
    Field("user_id", FieldType::kId, false, 0, UINT64_MAX, kUserPrefix),
};
constexpr FieldSpec kFundingFields[] = {
    Field("amount", FieldType::kAmount, true),
    Field("currency", FieldType::kCurrency, true),
    Field("description", FieldType::kString, false, kDescriptionLengthMax),
};
constexpr FieldSpec kCardFields[] = {
    Field("user_id", FieldType::kId, true, 0, UINT64_MAX, kUserPrefix),
    Field("account_id", FieldType::kId, true, 0, UINT64_MAX, kAccountPrefix),
    Field("expiry_month", FieldType::kUint, true, 0, 12),
    Field("expiry_year", FieldType::kUint, true, 0, 2199),
    Field("status", FieldType::kString, false, 16),
};
constexpr FieldSpec kControlsFields[] = {
    Field("transaction_amount_max", FieldType::kAmount, false, 0, UINT64_MAX, "", true),
    Field("daily_amount_max", FieldType::kAmount, false, 0, UINT64_MAX, "", true),
    Field("monthly_amount_max", FieldType::kAmount, false, 0, UINT64_MAX, "", true),
    Field("mcc_deny", FieldType::kUintArray, false, kMccDenyMax, 9999),
    Field("channels_blocked", FieldType::kStringArray, false, 3),
};
constexpr FieldSpec kWebhookFields[] = {
    Field("url", FieldType::kString, true, kUrlLengthMax),
    Field("description", FieldType::kString, false, kDescriptionLengthMax),
};
constexpr FieldSpec kAuthorizationFields[] = {
    Field("card_id", FieldType::kId, true, 0, UINT64_MAX, kCardPrefix),
    Field("amount", FieldType::kAmount, true),
    Field("currency", FieldType::kCurrency, true),
    Field("merchant_id", FieldType::kString, false, kMerchantIdLengthMax),
    Field("merchant_name", FieldType::kString, false, kMerchantNameLengthMax),
    Field("mcc", FieldType::kUint, false, 0, 9999),
    Field("merchant_country", FieldType::kUint, false, 0, 999),
    Field("channel", FieldType::kString, false, 16),
    Field("partial_approval_supported", FieldType::kBool, false),
};
constexpr FieldSpec kReversalFields[] = {
    Field("authorization_id", FieldType::kId, true, 0, UINT64_MAX, kAuthorizationPrefix),
    Field("amount", FieldType::kAmount, false),
};

std::optional<CardStatusValue> ParseCardStatus(std::string_view text) {
  for (uint8_t value = 1; value <= 7; ++value) {
    if (CardStatusText(static_cast<CardStatusValue>(value)) == text) {
      return static_cast<CardStatusValue>(value);
    }
  }
  return std::nullopt;
}

std::optional<UserStatusValue> ParseUserStatus(std::string_view text) {
  for (uint8_t value = 1; value <= 3; ++value) {
    if (UserStatusText(static_cast<UserStatusValue>(value)) == text) {
      return static_cast<UserStatusValue>(value);
    }
  }
  return std::nullopt;
}

std::optional<ChannelValue> ParseChannel(std::string_view text) {
  for (uint8_t value = 1; value <= 3; ++value) {
    if (ChannelText(static_cast<ChannelValue>(value)) == text) {
      return static_cast<ChannelValue>(value);
    }
  }
  return std::nullopt;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream buffer;
  buffer << file.rdbuf();
  *out = buffer.str();
  return out->size() <= kStaticFileBytesMax;
}

ApiError ErrorOf(CoreStatus status) {
  switch (status) {
    case CoreStatus::kOk: return ApiError::kInternal;
    case CoreStatus::kNotFound: return ApiError::kNotFound;
    case CoreStatus::kExists: return ApiError::kConflict;
    case CoreStatus::kInvalidState: return ApiError::kConflict;
    case CoreStatus::kInsufficientFunds: return ApiError::kInsufficientFunds;
    case CoreStatus::kCurrencyMismatch: return ApiError::kCurrencyMismatch;
    case CoreStatus::kLimitReached: return ApiError::kLimitReached;
    case CoreStatus::kOverloaded: return ApiError::kOverloaded;
    case CoreStatus::kUnavailable: return ApiError::kUnavailable;
    case CoreStatus::kInternal: return ApiError::kInternal;
    case CoreStatus::kInvalidValue: return ApiError::kInvalidValue;
  }
  return ApiError::kInternal;
}

// Splits "a=1&b=2" and calls visit(name, value) for each; false on a
// parameter without '=' or with percent-encoding (no parameter needs it).
template <typename Visit>
bool ForEachQueryParameter(std::string_view query, Visit visit) {
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos || pair.find('%') != std::string_view::npos) {
      return false;
    }
    if (!visit(pair.substr(0, equals), pair.substr(equals + 1))) return false;
  }
  return true;
}

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kProblemJson = "application/problem+json";

constexpr std::string_view kDocsIndex = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tangelo API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.yaml", dom_id: "#swagger-ui"});</script>
</body></html>
)";

}  // namespace

// One request between Submit and the core's reply.
struct ApiServer::Pending {
  net::HttpResponder responder;
  uint32_t route = 0;
  uint64_t tenant_id = 0;
  std::string instance;         // The request path, for problem bodies.
  std::string idempotency_key;  // Empty: none.
  std::string new_api_key;      // kCreateApiKey: the key to show once.
  Sha256Digest new_api_key_digest{};
};

ApiServer::ApiServer(ApiOptions options, Core* core)
    : options_(std::move(options)),
      core_(core),
      clock_(options_.clock != nullptr ? options_.clock : &system_clock_),
      tenant_limiter_(options_.tenant_rate),
      admin_limiter_(options_.admin_rate) {
  for (uint32_t route = 0; route < kRouteCount; ++route) {
    router_.Add(kRoutes[route].method, kRoutes[route].pattern, route);
  }
  admin_token_ = options_.admin_token;
  if (admin_token_.empty()) {
    const char* env = std::getenv("TANGELO_ADMIN_TOKEN");
    if (env != nullptr) admin_token_ = env;
  }
  net::HttpServerOptions http;
  http.tcp.host = options_.host;
  http.tcp.port = options_.port;
  http.tcp.loop_threads = options_.loop_threads;
  http.tcp.connections_max = options_.connections_max;
  http.tcp.idle_timeout_ms = options_.idle_timeout_ms;
  http.tcp.thread_name = "tg-api";
  http.tcp.clock = options_.clock;
  http.limits.body_bytes_max = options_.body_bytes_max;
  http.limits.header_bytes_max = options_.header_bytes_max;
  http.pipeline_depth = options_.pipeline_depth;
  http_ = std::make_unique<net::HttpServer>(
      std::move(http), [this](const net::HttpRequest& request, net::HttpResponder responder) {
        Handle(request, std::move(responder));
      });
}

ApiServer::~ApiServer() { http_->Shutdown(0); }

base::Status ApiServer::Start() {
  for (const ApiKey& key : core_->LoadApiKeys()) {
    if (!keys_.Insert(key.sha256, KeyOwner{key.tenant_id, key.id})) {
      return base::ResourceExhausted("API key table full");
    }
  }
  if (!ReadFile(options_.openapi_path, &openapi_yaml_)) {
    openapi_yaml_.clear();
    warnings_ += "OpenAPI document not found at " + options_.openapi_path + "; ";
  }
  static constexpr std::pair<std::string_view, std::string_view> kSwaggerFiles[] = {
      {"swagger-ui.css", "text/css"},
      {"swagger-ui-bundle.js", "application/javascript"},
      {"swagger-ui-standalone-preset.js", "application/javascript"},
      {"favicon-32x32.png", "image/png"},
      {"favicon-16x16.png", "image/png"},
  };
  for (const auto& [name, type] : kSwaggerFiles) {
    StaticFile file{std::string(name), std::string(type), {}};
    if (ReadFile(options_.swagger_ui_dir + "/" + file.name, &file.bytes)) {
      swagger_files_.push_back(std::move(file));
    }
  }
  if (swagger_files_.empty()) {
    warnings_ += "Swagger UI not found under " + options_.swagger_ui_dir + " (npm install); ";
  } else {
    docs_index_html_ = kDocsIndex;
  }
  return http_->Start();
}

uint64_t ApiServer::NowMs() { return clock_->RealtimeNs() / 1'000'000; }

void ApiServer::Respond(net::HttpResponder& responder, uint16_t status, std::string_view body,
                        std::string_view content_type, std::string_view location,
                        uint32_t retry_after_seconds, std::string_view allow) {
  net::HttpHeader headers[3];
  size_t count = 0;
  char retry_after[16];
  if (!location.empty()) headers[count++] = {"Location", location};
  if (retry_after_seconds != 0) {
    const int length = std::snprintf(retry_after, sizeof(retry_after), "%u", retry_after_seconds);
    headers[count++] = {"Retry-After", std::string_view(retry_after, static_cast<size_t>(length))};
  }
  if (!allow.empty()) headers[count++] = {"Allow", allow};
  if (status < 300) {
    stats_.responses_2xx.fetch_add(1, std::memory_order_relaxed);
  } else if (status < 500) {
    stats_.responses_4xx.fetch_add(1, std::memory_order_relaxed);
  } else {
    stats_.responses_5xx.fetch_add(1, std::memory_order_relaxed);
  }
  responder.Respond(status, body, content_type, std::span(headers, count));
}

void ApiServer::RespondProblem(net::HttpResponder& responder, ApiError error,
                               std::string_view detail, std::string_view instance,
                               uint32_t retry_after_seconds, std::string_view allow) {
  Respond(responder, ErrorInfo(error).status, ProblemBody(error, detail, instance), kProblemJson,
          {}, retry_after_seconds, allow);
}

bool ApiServer::ServeStatic(const net::HttpRequest& request, net::HttpResponder& responder) {
  const std::string_view path = request.path();
  const bool read = request.method() == "GET" || request.method() == "HEAD";
  if (!read) return false;
  if (path == "/openapi.yaml") {
    if (openapi_yaml_.empty()) return false;
    Respond(responder, 200, openapi_yaml_, "application/yaml");
    return true;
  }
  if (path == "/docs" || path == "/docs/") {
    if (docs_index_html_.empty()) return false;
    Respond(responder, 200, docs_index_html_, "text/html; charset=utf-8");
    return true;
  }
  if (path.substr(0, 6) == "/docs/") {
    const std::string_view name = path.substr(6);
    for (const StaticFile& file : swagger_files_) {
      if (file.name == name) {
        Respond(responder, 200, file.bytes, file.content_type);
        return true;
      }
    }
  }
  if (path == "/healthz") {
    Respond(responder, 200, "{\"status\":\"ok\"}", kJson);
    return true;
  }
  return false;
}

void ApiServer::Handle(const net::HttpRequest& request, net::HttpResponder responder) {
  stats_.requests.fetch_add(1, std::memory_order_relaxed);
  if (ServeStatic(request, responder)) return;
  const RouteMatch match = router_.Match(request.method(), request.path());
  if (match.kind == RouteMatch::Kind::kNotFound) {
    if (options_.extra_routes && options_.extra_routes(request, responder)) return;
    RespondProblem(responder, ApiError::kNotFound, "no such endpoint", request.path());
    return;
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    RespondProblem(responder, ApiError::kMethodNotAllowed, {}, request.path(), 0, match.allow);
    return;
  }
  HandleRoute(request, responder, match);
}

void ApiServer::HandleRoute(const net::HttpRequest& request, net::HttpResponder& responder,
                            const RouteMatch& match) {
  const std::string_view path = request.path();
  const RouteDef& route = kRoutes[match.route_id];
  const uint64_t now_ms = NowMs();

  // Credentials.
  const std::optional<std::string_view> token = BearerToken(request.Header("Authorization"));
  if (!token) {
    RespondProblem(responder, ApiError::kUnauthenticated, "send Authorization: Bearer <key>",
                   path);
    return;
  }
  uint64_t tenant_id = 0;
  const bool is_admin = !admin_token_.empty() && ConstantTimeEquals(*token, admin_token_);
  if (!is_admin) {
    const std::optional<KeyOwner> owner = keys_.Find(Sha256(*token));
    if (!owner) {
      RespondProblem(responder, ApiError::kUnauthenticated, "unknown credentials", path);
      return;
    }
    tenant_id = owner->tenant_id;
  }
  if (route.admin != is_admin) {
    RespondProblem(responder, ApiError::kForbidden,
                   route.admin ? "this endpoint needs the admin token"
                               : "this endpoint needs a tenant API key",
                   path);
    return;
  }
  const uint32_t wait_seconds = is_admin ? admin_limiter_.Acquire(UINT64_MAX, now_ms)
                                         : tenant_limiter_.Acquire(tenant_id, now_ms);
  if (wait_seconds != 0) {
    stats_.rate_limited.fetch_add(1, std::memory_order_relaxed);
    RespondProblem(responder, ApiError::kRateLimited, {}, path, wait_seconds);
    return;
  }

  auto pending = std::make_unique<Pending>();
  pending->route = match.route_id;
  pending->tenant_id = tenant_id;
  pending->instance = std::string(path);

  // Path ids: a malformed or foreign id is simply absent.
  auto path_id = [&](size_t capture, std::string_view prefix) -> uint64_t {
    return ParseId(prefix, match.captures[capture]);
  };
  auto not_found = [&] { RespondProblem(responder, ApiError::kNotFound, {}, path); };

  // Body.
  const bool has_body_method = route.method == "POST" || route.method == "PUT";
  JsonInput input;
  auto parse = [&](std::span<const FieldSpec> fields) -> bool {
    const std::string_view body = request.body();
    const std::optional<std::string_view> content_type = request.Header("Content-Type");
    if (!body.empty() &&
        (!content_type || content_type->substr(0, kJson.size()) != kJson)) {
      RespondProblem(responder, ApiError::kUnsupportedMediaType, {}, path);
      return false;
    }
    const std::optional<InputError> error = input.Parse(body.empty() ? "{}" : body, fields);
    if (error) {
      RespondProblem(responder, error->error, error->detail, path);
      return false;
    }
    return true;
  };
  if (!has_body_method && !request.body().empty()) {
    RespondProblem(responder, ApiError::kMalformedJson, "this method takes no body", path);
    return;
  }
  if (route.method != "GET" && !request.query().empty()) {
    RespondProblem(responder, ApiError::kInvalidQuery, "no query parameters here", path);
    return;
  }
  auto new_id = [&](uint64_t* id) -> bool {
    auto random = RandomId();
    if (!random.ok()) {
      RespondProblem(responder, ApiError::kInternal, {}, path);
      return false;
    }
    *id = *random;
    return true;
  };

  CoreRequest core_request;
  switch (match.route_id) {
    case kCreateTenant: {
      if (!parse(kNameOnly)) return;
      CreateTenantRequest r{0, std::string(input.String(0))};
      if (!new_id(&r.tenant_id)) return;
      core_request = std::move(r);
      break;
    }
    case kGetTenant: {
      const uint64_t id = path_id(0, kTenantPrefix);
      if (id == 0) return not_found();
      core_request = GetTenantRequest{id};
      break;
    }
    case kCreateApiKey: {
      if (!parse(kEmpty)) return;
      const uint64_t id = path_id(0, kTenantPrefix);
      if (id == 0) return not_found();
      auto key = GenerateApiKey();
      if (!key.ok()) return RespondProblem(responder, ApiError::kInternal, {}, path);
      CreateApiKeyRequest r;
      r.key.tenant_id = id;
      if (!new_id(&r.key.id)) return;
      r.key.sha256 = Sha256(*key);
      pending->new_api_key = std::move(*key);
      pending->new_api_key_digest = r.key.sha256;
      core_request = r;
      break;
    }
    case kListApiKeys: {
      const uint64_t id = path_id(0, kTenantPrefix);
      if (id == 0) return not_found();
      core_request = ListApiKeysRequest{id};
      break;
    }
    case kRevokeApiKey: {
      const uint64_t id = path_id(0, kTenantPrefix);
      const uint64_t key_id = path_id(1, kApiKeyIdPrefix);
      if (id == 0 || key_id == 0) return not_found();
      core_request = RevokeApiKeyRequest{id, key_id};
      break;
    }
    case kCreateProgram: {
      if (!parse(kProgramFields)) return;
      CreateProgramRequest r{tenant_id, {}};
      r.program.name = std::string(input.String(0));
      r.program.currency_numeric = input.Currency(1);
      if (!new_id(&r.program.id)) return;
      core_request = std::move(r);
      break;
    }
    case kGetProgram: {
      const uint64_t id = path_id(0, kProgramPrefix);
      if (id == 0) return not_found();
      core_request = GetProgramRequest{tenant_id, id};
      break;
    }
    case kCreateUser: {
      if (!parse(kUserFields)) return;
      CreateUserRequest r{tenant_id, {}};
      r.user.name = std::string(input.String(0));
      if (!new_id(&r.user.id)) return;
      core_request = std::move(r);
      break;
    }
    case kGetUser: {
      const uint64_t id = path_id(0, kUserPrefix);
      if (id == 0) return not_found();
      core_request = GetUserRequest{tenant_id, id};
      break;
    }
    case kSetUserStatus: {
      if (!parse(kStatusFields)) return;
      const auto status = ParseUserStatus(input.String(0));
      if (!status) {
        return RespondProblem(responder, ApiError::kInvalidValue,
                              "status: one of active, blocked, disabled", path);
      }
      const uint64_t id = path_id(0, kUserPrefix);
      if (id == 0) return not_found();
      core_request = SetUserStatusRequest{tenant_id, id, *status};
      break;
    }
    case kCreateAccount: {
      if (!parse(kAccountFields)) return;
      CreateAccountRequest r{tenant_id, {}};
      r.account.program_id = input.Uint(0);
      r.account.user_id = input.Has(1) ? input.Uint(1) : 0;
      if (!new_id(&r.account.id)) return;
      core_request = std::move(r);
      break;
    }
    case kGetAccount:
    case kGetBalance: {
      const uint64_t id = path_id(0, kAccountPrefix);
      if (id == 0) return not_found();
      core_request = GetAccountRequest{tenant_id, id};
      break;
    }
    case kCreditAccount:
    case kDebitAccount: {
      if (!parse(kFundingFields)) return;
      const uint64_t id = path_id(0, kAccountPrefix);
      if (id == 0) return not_found();
      FundAccountRequest r{tenant_id, id, 0, match.route_id == kCreditAccount,
                           input.Uint(0), input.Currency(1)};
      if (!new_id(&r.transfer_id)) return;
      core_request = r;
      break;
    }
    case kCreateCard: {
      if (!parse(kCardFields)) return;
      CreateCardRequest r{tenant_id, {}};
      r.card.user_id = input.Uint(0);
      r.card.account_id = input.Uint(1);
      if (input.Uint(2) < 1) {
        return RespondProblem(responder, ApiError::kInvalidValue, "expiry_month: 1..12", path);
      }
      r.card.expiry_month = static_cast<uint8_t>(input.Uint(2));
      if (input.Uint(3) < 2000) {
        return RespondProblem(responder, ApiError::kInvalidValue, "expiry_year: 2000..2199",
                              path);
      }
      r.card.expiry_year = static_cast<uint16_t>(input.Uint(3));
      r.card.status = CardStatusValue::kCreated;
      if (input.Has(4)) {
        const auto status = ParseCardStatus(input.String(4));
        if (!status || (*status != CardStatusValue::kCreated &&
                        *status != CardStatusValue::kActive)) {
          return RespondProblem(responder, ApiError::kInvalidValue,
                                "status: created or active", path);
        }
        r.card.status = *status;
      }
      if (!new_id(&r.card.id)) return;
      // The API never sees a PAN: the core (issuing's PanVault) issues it;
      // here only its token and last four digits travel.
      uint64_t token_bits = 0;
      uint64_t token_bits2 = 0;
      if (!new_id(&token_bits) || !new_id(&token_bits2)) return;
      const std::string pan_token = FormatId("tok", token_bits).substr(4) +
                                    FormatId("tok", token_bits2).substr(4);
      for (size_t i = 0; i < r.card.token.size(); ++i) r.card.token[i] = pan_token[i];
      for (size_t i = 0; i < 4; ++i) {
        r.card.last_four[i] = static_cast<char>('0' + (token_bits >> (i * 8)) % 10);
      }
      core_request = std::move(r);
      break;
    }
    case kGetCard: {
      const uint64_t id = path_id(0, kCardPrefix);
      if (id == 0) return not_found();
      core_request = GetCardRequest{tenant_id, id};
      break;
    }
    case kSetCardStatus: {
      if (!parse(kStatusFields)) return;
      const auto status = ParseCardStatus(input.String(0));
      if (!status) {
        return RespondProblem(responder, ApiError::kInvalidValue,
                              "status: one of created, active, blocked, lost, stolen, expired, "
                              "closed",
                              path);
      }
      const uint64_t id = path_id(0, kCardPrefix);
      if (id == 0) return not_found();
      core_request = SetCardStatusRequest{tenant_id, id, *status};
      break;
    }
    case kSetCardControls: {
      if (!parse(kControlsFields)) return;
      const uint64_t id = path_id(0, kCardPrefix);
      if (id == 0) return not_found();
      SetCardControlsRequest r{tenant_id, id, {}};
      r.controls.transaction_amount_max = input.Has(0) ? input.Uint(0) : 0;
      r.controls.daily_amount_max = input.Has(1) ? input.Uint(1) : 0;
      r.controls.monthly_amount_max = input.Has(2) ? input.Uint(2) : 0;
      for (uint64_t mcc : input.UintArray(3)) {
        r.controls.mcc_deny.push_back(static_cast<uint16_t>(mcc));
      }
      for (std::string_view name : input.StringArray(4)) {
        const auto channel = ParseChannel(name);
        if (!channel) {
          return RespondProblem(responder, ApiError::kInvalidValue,
                                "channels_blocked: card_present, ecommerce or atm", path);
        }
        r.controls.channels_blocked =
            static_cast<uint8_t>(r.controls.channels_blocked | (1u << static_cast<unsigned>(*channel)));
      }
      core_request = std::move(r);
      break;
    }
    case kGetAuthorization: {
      const uint64_t id = path_id(0, kAuthorizationPrefix);
      if (id == 0) return not_found();
      core_request = GetAuthorizationRequest{tenant_id, id};
      break;
    }
    case kListTransactions: {
      ListTransactionsRequest r;
      r.tenant_id = tenant_id;
      std::string_view bad;
      const bool ok = ForEachQueryParameter(request.query(), [&](std::string_view name,
                                                                 std::string_view value) {
        bad = name;
        if (name == "account_id") {
          r.account_id = ParseId(kAccountPrefix, value);
          return r.account_id != 0;
        }
        if (name == "card_id") {
          r.card_id = ParseId(kCardPrefix, value);
          return r.card_id != 0;
        }
        if (name == "cursor") {
          r.after_cursor = ParseId(kCursorPrefix, value);
          return r.after_cursor != 0;
        }
        if (name == "type") {
          for (uint8_t type = 1; type <= 4; ++type) {
            if (TransactionTypeText(static_cast<TransactionType>(type)) == value) {
              r.type = static_cast<TransactionType>(type);
              return true;
            }
          }
          return false;
        }
        if (name == "limit") {
          if (value.empty() || value.size() > 3) return false;
          uint32_t limit = 0;
          for (char c : value) {
            if (c < '0' || c > '9') return false;
            limit = limit * 10 + static_cast<uint32_t>(c - '0');
          }
          r.limit = limit;
          return limit >= 1 && limit <= kPageSizeMax;
        }
        return false;
      });
      if (!ok) {
        std::string detail = "bad or unknown parameter";
        if (!bad.empty() && bad.size() <= 32) detail = std::string(bad) + ": " + detail;
        return RespondProblem(responder, ApiError::kInvalidQuery, detail, path);
      }
      core_request = r;
      break;
    }
    case kCreateWebhook: {
      if (!parse(kWebhookFields)) return;
      const std::string_view url = input.String(0);
      if (url.substr(0, 8) != "https://" && url.substr(0, 7) != "http://") {
        return RespondProblem(responder, ApiError::kInvalidValue, "url: http(s) URL", path);
      }
      CreateWebhookRequest r{tenant_id, {}};
      r.endpoint.url = std::string(url);
      r.endpoint.description = std::string(input.String(1));
      if (!new_id(&r.endpoint.id)) return;
      core_request = std::move(r);
      break;
    }
    case kListWebhooks:
      core_request = ListWebhooksRequest{tenant_id};
      break;
    case kGetWebhook:
    case kDeleteWebhook: {
      const uint64_t id = path_id(0, kWebhookPrefix);
      if (id == 0) return not_found();
      if (match.route_id == kGetWebhook) {
        core_request = GetWebhookRequest{tenant_id, id};
      } else {
        core_request = DeleteWebhookRequest{tenant_id, id};
      }
      break;
    }
    case kSimulateAuthorization: {
      if (!parse(kAuthorizationFields)) return;
      AuthorizeRequest r{};
      r.tenant_id = tenant_id;
      r.card_id = input.Uint(0);
      r.amount_minor = input.Uint(1);
      r.currency_numeric = input.Currency(2);
      r.merchant_id = std::string(input.String(3));
      r.merchant_name = std::string(input.String(4));
      r.mcc = static_cast<uint16_t>(input.Has(5) ? input.Uint(5) : 5999);
      r.merchant_country = static_cast<uint16_t>(input.Uint(6));
      r.channel = ChannelValue::kCardPresent;
      if (input.Has(7)) {
        const auto channel = ParseChannel(input.String(7));
        if (!channel) {
          return RespondProblem(responder, ApiError::kInvalidValue,
                                "channel: card_present, ecommerce or atm", path);
        }
        r.channel = *channel;
      }
      r.partial_approval_supported = input.Has(8) && input.Bool(8);
      if (!new_id(&r.authorization_id)) return;
      core_request = std::move(r);
      break;
    }
    case kSimulateReversal: {
      if (!parse(kReversalFields)) return;
      core_request =
          ReverseRequest{tenant_id, input.Uint(0), input.Has(1) ? input.Uint(1) : 0, {}};
      break;
    }
    case kSimulateClearing:
    case kSimulateRefund:
      return RespondProblem(responder, ApiError::kNotImplemented,
                            "clearings and refunds come with the transaction path", path);
    default:
      return RespondProblem(responder, ApiError::kInternal, {}, path);
  }

  // Idempotency-Key (POST only), after validation: a request that cannot run
  // is not remembered.
  if (route.method == "POST") {
    const std::optional<std::string_view> key = request.Header("Idempotency-Key");
    if (key) {
      if (!ValidIdempotencyKey(*key)) {
        return RespondProblem(responder, ApiError::kInvalidIdempotencyKey,
                              "1..255 visible ASCII characters", path);
      }
      // The route and path ids are part of the request: the same key on
      // another endpoint is a mismatch.
      std::string material(request.method());
      material += ' ';
      material += path;
      material += '\n';
      material += request.body();
      const Sha256Digest fingerprint = Sha256(material);
      StoredResponse stored;
      const uint64_t scope = is_admin ? UINT64_MAX : tenant_id;
      switch (idempotency_.Begin(scope, *key, fingerprint, now_ms, &stored)) {
        case IdempotencyOutcome::kProceed:
          pending->idempotency_key = std::string(*key);
          if (auto* authorize = std::get_if<AuthorizeRequest>(&core_request)) {
            authorize->idempotency_key = pending->idempotency_key;
          } else if (auto* reverse = std::get_if<ReverseRequest>(&core_request)) {
            reverse->idempotency_key = pending->idempotency_key;
          }
          break;
        case IdempotencyOutcome::kReplay: {
          stats_.idempotent_replays.fetch_add(1, std::memory_order_relaxed);
          net::HttpHeader headers[2] = {{"Idempotent-Replayed", "true"}, {"Location", stored.location}};
          responder.Respond(stored.status, stored.body, stored.content_type,
                            std::span(headers, stored.location.empty() ? 1 : 2));
          return;
        }
        case IdempotencyOutcome::kInFlight:
          return RespondProblem(responder, ApiError::kIdempotencyInFlight, {}, path);
        case IdempotencyOutcome::kMismatch:
          return RespondProblem(responder, ApiError::kIdempotencyMismatch, {}, path);
        case IdempotencyOutcome::kFull:
          return RespondProblem(responder, ApiError::kIdempotencyStoreFull, {}, path, 1);
      }
    }
  }
  pending->responder = std::move(responder);
  Submit(std::move(pending), std::move(core_request));
}

void ApiServer::Submit(std::unique_ptr<Pending> pending, CoreRequest core_request) {
  Pending* raw = pending.release();
  core_->Submit(std::move(core_request), [this, raw](CoreReply&& reply) {
    std::unique_ptr<Pending> owned(raw);
    Finish(*owned, std::move(reply));
  });
}

void ApiServer::Finish(Pending& pending, CoreReply&& reply) {
  const uint64_t scope = pending.tenant_id == 0 ? UINT64_MAX : pending.tenant_id;
  StoredResponse response;
  uint32_t retry_after = 0;
  if (reply.status != CoreStatus::kOk) {
    const ApiError error = ErrorOf(reply.status);
    if (reply.status == CoreStatus::kOverloaded) {
      stats_.core_overloaded.fetch_add(1, std::memory_order_relaxed);
      retry_after = 1;
    }
    response.status = ErrorInfo(error).status;
    response.content_type = kProblemJson;
    response.body = ProblemBody(error, {}, pending.instance);
  } else {
    const uint32_t route = pending.route;
    JsonWriter json;
    response.content_type = kJson;
    response.status = 200;
    if (route == kGetBalance) {
      const Account* account = std::get_if<Account>(&reply.object);
      if (account == nullptr) {
        response.status = 500;
      } else {
        json.BeginObject();
        json.Key("object").String("balance");
        json.Key("account_id").String(FormatId(kAccountPrefix, account->id));
        json.Key("currency").String(CurrencyAlpha(account->currency_numeric));
        json.Key("posted").Uint(account->posted_minor);
        json.Key("pending").Uint(account->pending_minor);
        json.Key("available").Uint(account->available_minor);
        json.EndObject();
      }
    } else {
      RenderObject(json, reply.object, pending.new_api_key);
    }
    response.body = json.Take();
    const bool created = route == kCreateTenant || route == kCreateApiKey ||
                         route == kCreateProgram || route == kCreateUser ||
                         route == kCreateAccount || route == kCreateCard ||
                         route == kCreateWebhook || route == kSimulateAuthorization;
    if (created && response.status == 200) {
      response.status = 201;
      std::string_view prefix;
      std::string base;
      uint64_t id = 0;
      std::visit(
          [&](const auto& object) {
            using T = std::decay_t<decltype(object)>;
            if constexpr (std::is_same_v<T, Tenant>) { base = "/v1/tenants/"; prefix = kTenantPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, Program>) { base = "/v1/programs/"; prefix = kProgramPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, User>) { base = "/v1/users/"; prefix = kUserPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, Account>) { base = "/v1/accounts/"; prefix = kAccountPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, Card>) { base = "/v1/cards/"; prefix = kCardPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, WebhookEndpoint>) { base = "/v1/webhook_endpoints/"; prefix = kWebhookPrefix; id = object.id; }
            if constexpr (std::is_same_v<T, Authorization>) { base = "/v1/authorizations/"; prefix = kAuthorizationPrefix; id = object.id; }
          },
          reply.object);
      if (id != 0) response.location = base + FormatId(prefix, id);
    }
    if (route == kCreateApiKey) {
      const ApiKey* key = std::get_if<ApiKey>(&reply.object);
      if (key != nullptr) keys_.Insert(pending.new_api_key_digest, KeyOwner{key->tenant_id, key->id});
    } else if (route == kRevokeApiKey) {
      const ApiKey* key = std::get_if<ApiKey>(&reply.object);
      if (key != nullptr) keys_.Erase(key->tenant_id, key->id);
      response.status = 200;
    }
  }
  if (!pending.idempotency_key.empty()) {
    // Overload and shutdown are not outcomes: the client's retry must run.
    if (response.status == 503 || response.status == 500) {
      idempotency_.Abandon(scope, pending.idempotency_key);
    } else {
      idempotency_.Complete(scope, pending.idempotency_key, response);
    }
  }
  Respond(pending.responder, response.status, response.body, response.content_type,
          response.location, retry_after);
}

base::Result<std::unique_ptr<ApiServer>> StartApiServer(const ApiOptions& options, Core& core) {
  auto server = std::make_unique<ApiServer>(options, &core);
  TG_RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace tangelo::api
