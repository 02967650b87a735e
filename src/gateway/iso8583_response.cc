#include "gateway/iso8583_response.h"

#include <string>

#include "gateway/iso8583_codec.h"

namespace tangelo::gateway {

base::Status BuildResponse(const Iso8583Spec& spec, const Iso8583Message& request,
                           const Iso8583ResponseFields& fields, Iso8583Message* response) {
  TG_ASSERT(response != nullptr && response != &request);
  response->Clear();
  const Iso8583MessageSpec* definition = spec.message(request.mti());
  if (definition == nullptr || !definition->has_response) {
    return base::InvalidArgument("iso8583 " + spec.dialect() + ": MTI " + FormatMti(request.mti()) +
                                 " has no response in this dialect");
  }
  if (spec.field(field::kResponseCode) == nullptr) {
    return base::InvalidArgument("iso8583 " + spec.dialect() +
                                 ": field 39 (response code) is not defined");
  }
  response->set_mti(definition->response_mti);
  const Iso8583FieldSet& echo = definition->echo;
  for (int number = echo.Next(0); number != 0; number = echo.Next(number)) {
    if (request.Has(number)) response->SetField(number, request.Field(number));
  }
  // Static storage: no copy needed.
  response->SetField(field::kResponseCode, ResponseCodeText(fields.response_code));
  if (!fields.authorization_id.empty()) {
    TG_RETURN_IF_ERROR(CheckFieldValue(spec, field::kAuthorizationId, fields.authorization_id));
    TG_RETURN_IF_ERROR(response->SetFieldCopy(field::kAuthorizationId, fields.authorization_id));
  }
  if (!fields.additional_amounts.empty()) {
    if (spec.field(field::kAdditionalAmounts) == nullptr) {
      return base::InvalidArgument("iso8583 " + spec.dialect() +
                                   ": field 54 (additional amounts) is not defined");
    }
    TG_RETURN_IF_ERROR(WriteAdditionalAmounts(fields.additional_amounts, response));
  }
  return base::Status::Ok();
}

}  // namespace tangelo::gateway
