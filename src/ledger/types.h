// The ledger's records: accounts, transfers and their flags.
//
// Both records are fixed-size, trivially copyable and free of padding, so the ledger can keep
// them in flat arrays, dump those arrays raw into a snapshot and compare two states byte for
// byte. The shapes follow TigerBeetle (docs/reference/{account,transfer}.md) with 64-bit ids
// and amounts: an account holds four counters in minor units of one ISO 4217 currency, and a
// transfer moves one amount of one currency from a debit account to a credit account.
#pragma once

#include <cstdint>
#include <type_traits>

namespace tangelo::ledger {

// Account flags (Account::flags). Unknown bits are rejected with reserved_flag.
struct AccountFlags {
  // Links this account with the next event of the batch: the chain succeeds or fails together.
  static constexpr uint16_t kLinked = 1u << 0;
  // debits_pending + debits_posted must stay <= credits_posted: a credit-normal account that
  // must not go below zero counting holds (a prepaid or debit-card balance).
  static constexpr uint16_t kDebitsMustNotExceedCredits = 1u << 1;
  // credits_pending + credits_posted must stay <= debits_posted: the debit-normal mirror (for
  // example a credit line drawn from an asset account).
  static constexpr uint16_t kCreditsMustNotExceedDebits = 1u << 2;
  static constexpr uint16_t kAll =
      kLinked | kDebitsMustNotExceedCredits | kCreditsMustNotExceedDebits;
};

// An account. The caller fills id, currency, flags, user_data and code and leaves every other
// field zero; the ledger owns the counters and the timestamp. Accounts are never deleted.
struct Account {
  uint64_t id = 0;               // Caller-chosen, unique, never 0; the idempotency key.
  uint64_t user_data = 0;        // Opaque to the ledger (for example the issuing account id).
  uint64_t debits_pending = 0;   // Minor units reserved by pending debits (holds).
  uint64_t debits_posted = 0;    // Minor units debited for good.
  uint64_t credits_pending = 0;  // Minor units reserved by pending credits.
  uint64_t credits_posted = 0;   // Minor units credited for good.
  uint64_t timestamp = 0;        // Set by the ledger: nanoseconds, unique, increasing.
  uint16_t currency = 0;         // ISO 4217 numeric code, known to base::CurrencyFromNumeric.
  uint16_t code = 0;             // Chart-of-accounts type; opaque to the ledger.
  uint16_t flags = 0;            // AccountFlags.
  uint16_t reserved = 0;         // Must be zero.
};
static_assert(sizeof(Account) == 64);
static_assert(std::is_trivially_copyable_v<Account>);
static_assert(std::has_unique_object_representations_v<Account>, "Account must have no padding");

// Transfer flags (Transfer::flags). Unknown bits are rejected with reserved_flag.
struct TransferFlags {
  // Links this transfer with the next one of the batch: the chain succeeds or fails together.
  static constexpr uint16_t kLinked = 1u << 0;
  // Phase one of a two-phase transfer: reserves the amount in the *_pending counters.
  static constexpr uint16_t kPending = 1u << 1;
  // Phase two: posts all (amount 0 or equal) or part (amount smaller) of the pending transfer
  // named by pending_id; the remainder is released.
  static constexpr uint16_t kPostPendingTransfer = 1u << 2;
  // Phase two: releases the whole pending transfer named by pending_id.
  static constexpr uint16_t kVoidPendingTransfer = 1u << 3;
  // Moves at most `amount`: as much as keeps debits_pending + debits_posted <= credits_posted
  // on the debit account (whatever its flags).
  static constexpr uint16_t kBalancingDebit = 1u << 4;
  // Moves at most `amount`: as much as keeps credits_pending + credits_posted <= debits_posted
  // on the credit account (whatever its flags).
  static constexpr uint16_t kBalancingCredit = 1u << 5;
  static constexpr uint16_t kAll = kLinked | kPending | kPostPendingTransfer |
                                   kVoidPendingTransfer | kBalancingDebit | kBalancingCredit;
};

// A transfer. Immutable once created; the caller leaves timestamp zero. For a post or a void,
// debit_account_id, credit_account_id and currency may be zero (they are taken from the pending
// transfer) or must match it; the stored record carries the pending transfer's values and the
// amount actually posted (a void stores the pending amount).
struct Transfer {
  uint64_t id = 0;  // Caller-chosen, unique, never 0; the idempotency key.
  uint64_t debit_account_id = 0;
  uint64_t credit_account_id = 0;
  uint64_t amount = 0;           // Minor units of `currency`.
  uint64_t pending_id = 0;       // The pending transfer a post or void resolves; else 0.
  uint64_t user_data = 0;        // Opaque to the ledger.
  uint64_t timestamp = 0;        // Set by the ledger: nanoseconds, unique, increasing.
  uint32_t timeout_seconds = 0;  // Pending only: expires at timestamp + timeout; 0 = never.
  uint16_t currency = 0;         // ISO 4217 numeric code; must match both accounts.
  uint16_t flags = 0;            // TransferFlags.
};
static_assert(sizeof(Transfer) == 64);
static_assert(std::is_trivially_copyable_v<Transfer>);
static_assert(std::has_unique_object_representations_v<Transfer>, "Transfer must have no padding");

// The life of a pending transfer. A pending transfer leaves kPending at most once.
enum class PendingState : uint8_t {
  kNone = 0,     // Not a pending transfer (single-phase, post or void).
  kPending = 1,  // Amount still reserved.
  kPosted = 2,   // Resolved by a post (full or partial).
  kVoided = 3,   // Resolved by a void.
  kExpired = 4,  // Released by ExpirePending after its timeout.
};

// Available balance of a credit-normal account (a prepaid or debit-card balance, usually
// flagged kDebitsMustNotExceedCredits): what can still be debited, counting holds. Zero when
// the account is at or below zero.
constexpr uint64_t CreditNormalAvailable(const Account& account) {
  const unsigned __int128 debits =
      static_cast<unsigned __int128>(account.debits_posted) + account.debits_pending;
  if (debits >= account.credits_posted) return 0;
  return static_cast<uint64_t>(account.credits_posted - debits);
}

// Available balance of a debit-normal account (an asset such as a credit line, usually
// flagged kCreditsMustNotExceedDebits): what can still be credited, counting pending credits.
// Zero when the account is at or below zero.
constexpr uint64_t DebitNormalAvailable(const Account& account) {
  const unsigned __int128 credits =
      static_cast<unsigned __int128>(account.credits_posted) + account.credits_pending;
  if (credits >= account.debits_posted) return 0;
  return static_cast<uint64_t>(account.debits_posted - credits);
}

}  // namespace tangelo::ledger
