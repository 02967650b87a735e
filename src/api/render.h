// JSON renderings of the API's objects (the schemas of docs/api/openapi.yaml
// components). Ids are rendered "<prefix>_<16 hex>", money as integer minor
// units with the ISO 4217 alphabetic currency, times as Unix milliseconds.
// A card is rendered with its last four digits and token only: the API never
// has a full PAN to render. Pure functions; thread safe.
#pragma once

#include <string>
#include <string_view>

#include "api/core.h"
#include "api/json_writer.h"

namespace tangelo::api {

// Id prefixes (stable: clients store these ids).
inline constexpr std::string_view kTenantPrefix = "ten";
inline constexpr std::string_view kApiKeyIdPrefix = "key";
inline constexpr std::string_view kProgramPrefix = "prg";
inline constexpr std::string_view kUserPrefix = "usr";
inline constexpr std::string_view kAccountPrefix = "acc";
inline constexpr std::string_view kCardPrefix = "crd";
inline constexpr std::string_view kAuthorizationPrefix = "aut";
inline constexpr std::string_view kTransactionPrefix = "txn";
inline constexpr std::string_view kWebhookPrefix = "whk";
inline constexpr std::string_view kCursorPrefix = "cur";

std::string_view CurrencyAlpha(uint16_t numeric);
std::string_view CardStatusText(CardStatusValue status);
std::string_view UserStatusText(UserStatusValue status);
std::string_view ChannelText(ChannelValue channel);
std::string_view TransactionTypeText(TransactionType type);

// Renders `object` as its JSON resource. `new_api_key`, when not empty, is
// added as "key" to an ApiKey (the one time it is shown).
void RenderObject(JsonWriter& json, const CoreObject& object, std::string_view new_api_key = {});
// The balance view of an account.
void RenderBalance(JsonWriter& json, const Account& account);

}  // namespace tangelo::api
