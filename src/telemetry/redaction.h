// Redaction of card numbers and secrets before any text leaves the process
// in a log line or a span attribute (PCI DSS: a full PAN never reaches logs).
//
// Two rules, applied by the Logger and the Tracer to everything they emit
// except the fields they generate themselves (time, ids):
//
// 1. Card numbers. A run of 13 to 19 digits that passes the Luhn check is
//    masked to its first 6 and last 4 digits ("411111******1111"). A run may
//    have single spaces or dashes between digits ("4111 1111 1111 1111");
//    within a longer spaced run, every span of whole groups holding 13..19
//    digits is checked too, so a PAN followed by an expiry year is caught.
//    A run of more than 19 digits with no separators is not a PAN (an
//    acquirer reference number is 23 digits) and is left alone. Masking keeps
//    the text's length and separators, so it works in place.
//
// 2. Secrets by key. A field whose key names a secret is replaced whole by
//    kRedactedValue, whatever its value: keys containing (case-insensitively,
//    ignoring '_', '-', '.') secret, password, passwd, token, apikey,
//    privatekey, credential, cookie, cvv, cvc; or having a word pan or pin;
//    or whose last word is authorization (the HTTP header, also as
//    proxy_authorization or http.request.header.authorization).
//
// All functions are pure and thread safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tangelo::telemetry {

inline constexpr std::string_view kRedactedValue = "[REDACTED]";
inline constexpr size_t kPanDigitsMin = 13;
inline constexpr size_t kPanDigitsMax = 19;

// True if `digits` (only '0'..'9') passes the Luhn (mod 10) check.
bool PassesLuhn(std::string_view digits);

// Masks every card number in text[0, size) in place; returns how many were
// masked.
size_t MaskCardNumbers(char* text, size_t size);
inline size_t MaskCardNumbers(std::string* text) {
  return MaskCardNumbers(text->data(), text->size());
}
// A masked copy.
std::string WithCardNumbersMasked(std::string_view text);

// Copies a masked prefix of `text` into out[0, capacity): at most
// `capacity` bytes, cut at a UTF-8 boundary and, if the text goes on, also
// before any digits at the cut (they could be the start of a card number
// that the cut would hide from the mask); then masks card numbers in the
// copy. Returns the bytes written. No allocation, for fixed-size records.
size_t CopyMaskedPrefix(std::string_view text, char* out, size_t capacity);
// The same cut without the masking, for callers that mask later (and only
// if the text is emitted at all): masking the copy afterwards is exactly as
// safe as CopyMaskedPrefix.
size_t CopyPrefixForMasking(std::string_view text, char* out, size_t capacity);

// True if a field named `key` must never show its value.
bool IsSensitiveKey(std::string_view key);

}  // namespace tangelo::telemetry
