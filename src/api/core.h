// api::Core: the one seam between the REST front door and the card-issuing
// core. ApiServer turns a validated HTTP request into one CoreRequest, hands
// it to Core::Submit and answers the client when the CoreReply arrives, on
// whatever thread delivers it (for the engine-backed core: the journal thread,
// after the entry is durable). The API never blocks on the core.
//
// Why a seam instead of calling engine::Engine directly: the engine entry
// kinds the API needs are owned by src/authorizer (CoreStateMachine), and
// several of them do not exist yet (API keys, webhook endpoints, listings;
// see README.md "Hooks"). Everything above this interface (routing, strict
// JSON, problem details, auth, idempotency, rate limits, the OpenAPI
// contract) is independent of how the core stores things, and is tested
// end to end against MemoryCore. An engine-backed implementation maps each
// request onto authorizer entries (entries.h) one to one.
//
// Contract of every implementation:
// - Tenant isolation: every request names its tenant; an object of another
//   tenant is answered kNotFound, exactly as if it did not exist.
// - Ids are chosen by the API (random, non-zero, below 2^62) like issuing's
//   caller-chosen ids; an id in use is kExists.
// - Nothing changes unless the reply is kOk (or kDeclined for an
//   authorization, which is recorded).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace tangelo::api {

// Named limits of the API's resources (also in docs/api/openapi.yaml).
inline constexpr size_t kNameLengthMax = 64;          // Tenants, programs, users (bytes).
inline constexpr size_t kUrlLengthMax = 256;          // Webhook endpoint URLs.
inline constexpr size_t kDescriptionLengthMax = 128;
inline constexpr size_t kMerchantIdLengthMax = 15;    // ISO 8583 field 42.
inline constexpr size_t kMerchantNameLengthMax = 40;  // Field 43 name part.
inline constexpr size_t kMccDenyMax = 16;
inline constexpr uint64_t kAmountMinorMax = 999'999'999'999ULL;  // ISO 8583 field 4.
inline constexpr uint32_t kPageSizeMax = 100;
inline constexpr uint32_t kPageSizeDefault = 20;
inline constexpr uint32_t kApiKeysPerTenantMax = 16;
inline constexpr uint32_t kWebhookEndpointsPerTenantMax = 16;

// How a core answers. Stable numbers (they appear in logs and metrics).
enum class CoreStatus : uint8_t {
  kOk = 0,
  kNotFound = 1,            // Absent or another tenant's.
  kExists = 2,              // The chosen id is in use.
  kInvalidState = 3,        // A transition the object does not allow.
  kInsufficientFunds = 4,   // A debit larger than the available balance.
  kCurrencyMismatch = 5,    // Amount currency differs from the account's.
  kLimitReached = 6,        // A named per-tenant capacity is full.
  kOverloaded = 7,          // The core's intake is full: retry later.
  kUnavailable = 8,         // Shutting down.
  kInternal = 9,
  kInvalidValue = 10,       // A value the core refuses (e.g. a non-ASCII name).
};

enum class CardStatusValue : uint8_t {
  kCreated = 1, kActive = 2, kBlocked = 3, kLost = 4, kStolen = 5, kExpired = 6, kClosed = 7,
};
enum class UserStatusValue : uint8_t { kActive = 1, kBlocked = 2, kDisabled = 3 };
enum class ChannelValue : uint8_t { kCardPresent = 1, kEcommerce = 2, kAtm = 3 };

struct CardControls {
  uint64_t transaction_amount_max = 0;  // 0: no limit.
  uint64_t daily_amount_max = 0;
  uint64_t monthly_amount_max = 0;
  std::vector<uint16_t> mcc_deny;        // At most kMccDenyMax.
  uint8_t channels_blocked = 0;          // Bit (1 << channel value).
};

// ------------------------------------------------------------------ objects

struct Tenant { uint64_t id = 0; std::string name; uint64_t created_at_ms = 0; };
struct ApiKey {
  uint64_t id = 0;
  uint64_t tenant_id = 0;
  std::array<uint8_t, 32> sha256{};  // Of the key text; the key itself is never stored.
  uint64_t created_at_ms = 0;
  bool revoked = false;
};
struct Program {
  uint64_t id = 0; std::string name; uint16_t currency_numeric = 0; uint64_t created_at_ms = 0;
};
struct User {
  uint64_t id = 0; std::string name; UserStatusValue status = UserStatusValue::kActive;
  uint64_t created_at_ms = 0;
};
struct Account {
  uint64_t id = 0; uint64_t program_id = 0; uint64_t user_id = 0;  // 0: shared account.
  uint16_t currency_numeric = 0;
  uint64_t posted_minor = 0;     // Settled money.
  uint64_t pending_minor = 0;    // Held by live authorizations.
  uint64_t available_minor = 0;  // posted - pending.
  uint64_t created_at_ms = 0;
};
struct Card {
  uint64_t id = 0; uint64_t user_id = 0; uint64_t account_id = 0;
  CardStatusValue status = CardStatusValue::kCreated;
  uint16_t expiry_year = 0; uint8_t expiry_month = 0;
  std::array<char, 4> last_four{};
  std::array<char, 32> token{};  // Hex of the PAN token; never the PAN.
  CardControls controls;
  uint64_t created_at_ms = 0;
};
enum class DecisionValue : uint8_t { kApproved = 1, kPartiallyApproved = 2, kDeclined = 3 };
struct Authorization {
  uint64_t id = 0; uint64_t card_id = 0; uint64_t account_id = 0;
  DecisionValue decision = DecisionValue::kDeclined;
  std::string reason;              // Machine-readable ("INSUFFICIENT_FUNDS"); empty if approved.
  std::array<char, 2> response_code{'0', '5'};  // ISO 8583 field 39.
  uint64_t requested_minor = 0; uint64_t approved_minor = 0; uint64_t held_minor = 0;
  uint16_t currency_numeric = 0;
  uint64_t available_after_minor = 0;
  std::string merchant_id; std::string merchant_name; uint16_t mcc = 0;
  uint64_t created_at_ms = 0;
};
enum class TransactionType : uint8_t {
  kCredit = 1, kDebit = 2, kAuthorization = 3, kReversal = 4,
};
struct Transaction {
  uint64_t id = 0;  // Increasing per tenant: the cursor of a listing.
  TransactionType type = TransactionType::kCredit;
  uint64_t account_id = 0; uint64_t card_id = 0; uint64_t authorization_id = 0;
  uint64_t amount_minor = 0; uint16_t currency_numeric = 0;
  std::string status;  // "posted", "approved", "declined", "released".
  uint64_t created_at_ms = 0;
};
struct TransactionPage { std::vector<Transaction> items; uint64_t next_cursor = 0; };
struct WebhookEndpoint {
  uint64_t id = 0; std::string url; std::string description; uint64_t created_at_ms = 0;
};

// ----------------------------------------------------------------- requests

struct CreateTenantRequest { uint64_t tenant_id; std::string name; };
struct GetTenantRequest { uint64_t tenant_id; };
struct CreateApiKeyRequest { ApiKey key; };
struct RevokeApiKeyRequest { uint64_t tenant_id; uint64_t key_id; };
struct ListApiKeysRequest { uint64_t tenant_id; };
struct CreateProgramRequest { uint64_t tenant_id; Program program; };
struct GetProgramRequest { uint64_t tenant_id; uint64_t program_id; };
struct CreateUserRequest { uint64_t tenant_id; User user; };
struct GetUserRequest { uint64_t tenant_id; uint64_t user_id; };
struct SetUserStatusRequest { uint64_t tenant_id; uint64_t user_id; UserStatusValue status; };
struct CreateAccountRequest { uint64_t tenant_id; Account account; };
struct GetAccountRequest { uint64_t tenant_id; uint64_t account_id; };
struct FundAccountRequest {
  uint64_t tenant_id; uint64_t account_id; uint64_t transfer_id; bool credit;
  uint64_t amount_minor; uint16_t currency_numeric;
};
struct CreateCardRequest { uint64_t tenant_id; Card card; };
struct GetCardRequest { uint64_t tenant_id; uint64_t card_id; };
struct SetCardStatusRequest { uint64_t tenant_id; uint64_t card_id; CardStatusValue status; };
struct SetCardControlsRequest { uint64_t tenant_id; uint64_t card_id; CardControls controls; };
struct AuthorizeRequest {
  uint64_t tenant_id; uint64_t authorization_id; uint64_t card_id;
  uint64_t amount_minor; uint16_t currency_numeric;
  std::string merchant_id; std::string merchant_name; uint16_t mcc; uint16_t merchant_country;
  ChannelValue channel; bool partial_approval_supported;
  // The request's Idempotency-Key, if any: the core keeps it with the
  // decision, so a retry after a restart (when the API's own idempotency
  // store is gone) still gets the original decision and no second hold.
  std::string idempotency_key;
};
struct ReverseRequest {
  uint64_t tenant_id; uint64_t authorization_id;
  uint64_t amount_minor;  // 0: full reversal.
  std::string idempotency_key;  // As AuthorizeRequest's.
};
struct GetAuthorizationRequest { uint64_t tenant_id; uint64_t authorization_id; };
struct ListTransactionsRequest {
  uint64_t tenant_id;
  uint64_t account_id = 0;  // Filters; 0 = any.
  uint64_t card_id = 0;
  std::optional<TransactionType> type;
  uint64_t after_cursor = 0;  // Items with id > after_cursor.
  uint32_t limit = kPageSizeDefault;
};
struct CreateWebhookRequest { uint64_t tenant_id; WebhookEndpoint endpoint; };
struct GetWebhookRequest { uint64_t tenant_id; uint64_t webhook_id; };
struct ListWebhooksRequest { uint64_t tenant_id; };
struct DeleteWebhookRequest { uint64_t tenant_id; uint64_t webhook_id; };

using CoreRequest =
    std::variant<CreateTenantRequest, GetTenantRequest, CreateApiKeyRequest, RevokeApiKeyRequest,
                 ListApiKeysRequest, CreateProgramRequest, GetProgramRequest, CreateUserRequest,
                 GetUserRequest, SetUserStatusRequest, CreateAccountRequest, GetAccountRequest,
                 FundAccountRequest, CreateCardRequest, GetCardRequest, SetCardStatusRequest,
                 SetCardControlsRequest, AuthorizeRequest, ReverseRequest,
                 GetAuthorizationRequest, ListTransactionsRequest, CreateWebhookRequest,
                 GetWebhookRequest, ListWebhooksRequest, DeleteWebhookRequest>;

using CoreObject =
    std::variant<std::monostate, Tenant, ApiKey, std::vector<ApiKey>, Program, User, Account, Card,
                 Authorization, TransactionPage, WebhookEndpoint, std::vector<WebhookEndpoint>>;

struct CoreReply {
  CoreStatus status = CoreStatus::kOk;
  CoreObject object;  // The created/read/changed object when kOk.
};

// Runs once per submitted request, on any thread. Must be quick.
using CoreCallback = std::function<void(CoreReply&& reply)>;

// Thread safety: Submit and LoadApiKeys may be called from any thread.
class Core {
 public:
  virtual ~Core() = default;

  // Queues `request`; `done` runs exactly once with the outcome, possibly
  // before Submit returns. A full intake is CoreStatus::kOverloaded.
  virtual void Submit(CoreRequest request, CoreCallback done) = 0;

  // Every live (unrevoked) API key, for the server's in-memory key table at
  // start-up. Keys are journaled state of the core, so they survive restart.
  virtual std::vector<ApiKey> LoadApiKeys() = 0;
};

}  // namespace tangelo::api
