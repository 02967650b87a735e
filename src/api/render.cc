#include "api/render.h"

#include "api/json_input.h"
#include "base/money.h"

namespace tangelo::api {
namespace {

void Id(JsonWriter& json, std::string_view key, std::string_view prefix, uint64_t id) {
  json.Key(key);
  if (id == 0) {
    json.Null();
  } else {
    json.String(FormatId(prefix, id));
  }
}

void Render(JsonWriter& json, const Tenant& tenant, std::string_view) {
  json.BeginObject();
  Id(json, "id", kTenantPrefix, tenant.id);
  json.Key("object").String("tenant");
  json.Key("name").String(tenant.name);
  json.Key("created_at_ms").Uint(tenant.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const ApiKey& key, std::string_view new_api_key) {
  json.BeginObject();
  Id(json, "id", kApiKeyIdPrefix, key.id);
  json.Key("object").String("api_key");
  Id(json, "tenant_id", kTenantPrefix, key.tenant_id);
  if (!new_api_key.empty()) json.Key("key").String(new_api_key);
  json.Key("created_at_ms").Uint(key.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const Program& program, std::string_view) {
  json.BeginObject();
  Id(json, "id", kProgramPrefix, program.id);
  json.Key("object").String("program");
  json.Key("name").String(program.name);
  json.Key("currency").String(CurrencyAlpha(program.currency_numeric));
  json.Key("created_at_ms").Uint(program.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const User& user, std::string_view) {
  json.BeginObject();
  Id(json, "id", kUserPrefix, user.id);
  json.Key("object").String("user");
  json.Key("name").String(user.name);
  json.Key("status").String(UserStatusText(user.status));
  json.Key("created_at_ms").Uint(user.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const Account& account, std::string_view) {
  json.BeginObject();
  Id(json, "id", kAccountPrefix, account.id);
  json.Key("object").String("account");
  Id(json, "program_id", kProgramPrefix, account.program_id);
  Id(json, "user_id", kUserPrefix, account.user_id);
  json.Key("currency").String(CurrencyAlpha(account.currency_numeric));
  json.Key("balance");
  RenderBalance(json, account);
  json.Key("created_at_ms").Uint(account.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const Card& card, std::string_view) {
  json.BeginObject();
  Id(json, "id", kCardPrefix, card.id);
  json.Key("object").String("card");
  Id(json, "user_id", kUserPrefix, card.user_id);
  Id(json, "account_id", kAccountPrefix, card.account_id);
  json.Key("status").String(CardStatusText(card.status));
  json.Key("expiry_month").Uint(card.expiry_month);
  json.Key("expiry_year").Uint(card.expiry_year);
  json.Key("last_four").String(std::string_view(card.last_four.data(), 4));
  json.Key("token").String(std::string_view(card.token.data(), card.token.size()));
  json.Key("controls").BeginObject();
  const CardControls& controls = card.controls;
  json.Key("transaction_amount_max").Uint(controls.transaction_amount_max);
  json.Key("daily_amount_max").Uint(controls.daily_amount_max);
  json.Key("monthly_amount_max").Uint(controls.monthly_amount_max);
  json.Key("mcc_deny").BeginArray();
  for (uint16_t mcc : controls.mcc_deny) json.Uint(mcc);
  json.EndArray();
  json.Key("channels_blocked").BeginArray();
  for (uint8_t channel = 1; channel <= 3; ++channel) {
    if ((controls.channels_blocked & (1u << channel)) != 0) {
      json.String(ChannelText(static_cast<ChannelValue>(channel)));
    }
  }
  json.EndArray();
  json.EndObject();
  json.Key("created_at_ms").Uint(card.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const Authorization& authorization, std::string_view) {
  static constexpr std::string_view kDecisions[] = {"", "approved", "partially_approved",
                                                    "declined"};
  json.BeginObject();
  Id(json, "id", kAuthorizationPrefix, authorization.id);
  json.Key("object").String("authorization");
  Id(json, "card_id", kCardPrefix, authorization.card_id);
  Id(json, "account_id", kAccountPrefix, authorization.account_id);
  json.Key("decision").String(kDecisions[static_cast<size_t>(authorization.decision)]);
  json.Key("reason");
  if (authorization.reason.empty()) {
    json.Null();
  } else {
    json.String(authorization.reason);
  }
  json.Key("response_code")
      .String(std::string_view(authorization.response_code.data(), 2));
  json.Key("requested_amount").Uint(authorization.requested_minor);
  json.Key("approved_amount").Uint(authorization.approved_minor);
  json.Key("held_amount").Uint(authorization.held_minor);
  json.Key("currency").String(CurrencyAlpha(authorization.currency_numeric));
  json.Key("available_after").Uint(authorization.available_after_minor);
  json.Key("merchant").BeginObject();
  json.Key("id").String(authorization.merchant_id);
  json.Key("name").String(authorization.merchant_name);
  json.Key("mcc").Uint(authorization.mcc);
  json.EndObject();
  json.Key("created_at_ms").Uint(authorization.created_at_ms);
  json.EndObject();
}

void Render(JsonWriter& json, const TransactionPage& page, std::string_view) {
  json.BeginObject();
  json.Key("object").String("list");
  json.Key("data").BeginArray();
  for (const Transaction& transaction : page.items) {
    json.BeginObject();
    Id(json, "id", kTransactionPrefix, transaction.id);
    json.Key("object").String("transaction");
    json.Key("type").String(TransactionTypeText(transaction.type));
    Id(json, "account_id", kAccountPrefix, transaction.account_id);
    Id(json, "card_id", kCardPrefix, transaction.card_id);
    Id(json, "authorization_id", kAuthorizationPrefix, transaction.authorization_id);
    json.Key("amount").Uint(transaction.amount_minor);
    json.Key("currency").String(CurrencyAlpha(transaction.currency_numeric));
    json.Key("status").String(transaction.status);
    json.Key("created_at_ms").Uint(transaction.created_at_ms);
    json.EndObject();
  }
  json.EndArray();
  json.Key("has_more").Bool(page.next_cursor != 0);
  Id(json, "next_cursor", kCursorPrefix, page.next_cursor);
  json.EndObject();
}

void Render(JsonWriter& json, const WebhookEndpoint& endpoint, std::string_view) {
  json.BeginObject();
  Id(json, "id", kWebhookPrefix, endpoint.id);
  json.Key("object").String("webhook_endpoint");
  json.Key("url").String(endpoint.url);
  json.Key("description").String(endpoint.description);
  json.Key("created_at_ms").Uint(endpoint.created_at_ms);
  json.EndObject();
}

template <typename T>
void Render(JsonWriter& json, const std::vector<T>& items, std::string_view) {
  json.BeginObject();
  json.Key("object").String("list");
  json.Key("data").BeginArray();
  for (const T& item : items) Render(json, item, {});
  json.EndArray();
  json.Key("has_more").Bool(false);
  json.Key("next_cursor").Null();
  json.EndObject();
}

void Render(JsonWriter& json, const std::monostate&, std::string_view) {
  json.BeginObject();
  json.EndObject();
}

}  // namespace

std::string_view CurrencyAlpha(uint16_t numeric) {
  static thread_local char buffer[4];
  const auto currency = base::CurrencyFromNumeric(numeric);
  if (!currency) return "XXX";
  const std::string_view alpha = currency->alpha();
  for (size_t i = 0; i < 3; ++i) buffer[i] = alpha[i];
  return std::string_view(buffer, 3);
}

std::string_view CardStatusText(CardStatusValue status) {
  static constexpr std::string_view kNames[] = {"",     "created", "active", "blocked",
                                                "lost", "stolen",  "expired", "closed"};
  return kNames[static_cast<size_t>(status)];
}

std::string_view UserStatusText(UserStatusValue status) {
  static constexpr std::string_view kNames[] = {"", "active", "blocked", "disabled"};
  return kNames[static_cast<size_t>(status)];
}

std::string_view ChannelText(ChannelValue channel) {
  static constexpr std::string_view kNames[] = {"", "card_present", "ecommerce", "atm"};
  return kNames[static_cast<size_t>(channel)];
}

std::string_view TransactionTypeText(TransactionType type) {
  static constexpr std::string_view kNames[] = {"", "credit", "debit", "authorization",
                                                "reversal"};
  return kNames[static_cast<size_t>(type)];
}

void RenderBalance(JsonWriter& json, const Account& account) {
  json.BeginObject();
  json.Key("currency").String(CurrencyAlpha(account.currency_numeric));
  json.Key("posted").Uint(account.posted_minor);
  json.Key("pending").Uint(account.pending_minor);
  json.Key("available").Uint(account.available_minor);
  json.EndObject();
}

void RenderObject(JsonWriter& json, const CoreObject& object, std::string_view new_api_key) {
  std::visit([&](const auto& value) { Render(json, value, new_api_key); }, object);
}

}  // namespace tangelo::api
