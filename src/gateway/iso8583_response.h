// Building an ISO 8583 response from its request.
//
// A network matches a response to its request by the fields the response
// echoes (STAN 11 and RRN 37 above all), so which fields are echoed is part of
// the dialect (`echo=` on the request's `message` line), not of this code.
#pragma once

#include <span>
#include <string_view>

#include "base/status.h"
#include "gateway/iso8583_fields.h"
#include "gateway/iso8583_message.h"
#include "gateway/iso8583_spec.h"

namespace tangelo::gateway {

// What the decision adds to the echoed request fields.
struct Iso8583ResponseFields {
  // Field 39.
  Iso8583ResponseCode response_code = Iso8583ResponseCode::kSystemMalfunction;
  // Field 38 (approval code), copied into the response; empty = not sent.
  std::string_view authorization_id;
  // Field 54 (balances), formatted into the response; empty = not sent.
  std::span<const AdditionalAmount> additional_amounts;
};

// Clears *response and fills it as the answer to `request`: the response MTI
// from the dialect, every echo field present in the request (as views into
// the request's frame: the response must not outlive it), then 39, 38 and 54
// from `fields`. Works for a request that failed CheckMessage() too, so a
// format error (30) can still echo whatever the request did carry.
// Errors (kInvalidArgument): the request's MTI has no response in the
// dialect; 38, 39 or 54 is not defined in the dialect, or the authorization
// id is not a valid field 38 value.
base::Status BuildResponse(const Iso8583Spec& spec, const Iso8583Message& request,
                           const Iso8583ResponseFields& fields, Iso8583Message* response);

}  // namespace tangelo::gateway
