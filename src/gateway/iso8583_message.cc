#include "gateway/iso8583_message.h"

#include <cstring>
#include <string>

namespace tangelo::gateway {

base::Status Iso8583Message::SetFieldCopy(int field_number, std::string_view value) {
  CheckNumber(field_number);
  if (value.size() > scratch_.size() - scratch_used_) {
    return base::ResourceExhausted("field " + std::to_string(field_number) + ": " +
                                   std::to_string(value.size()) +
                                   " bytes do not fit the message scratch area (" +
                                   std::to_string(scratch_.size() - scratch_used_) + " left)");
  }
  char* destination = scratch_.data() + scratch_used_;
  if (!value.empty()) std::memcpy(destination, value.data(), value.size());
  scratch_used_ = static_cast<uint16_t>(scratch_used_ + value.size());
  SetField(field_number, std::string_view(destination, value.size()));
  return base::Status::Ok();
}

bool Iso8583Message::operator==(const Iso8583Message& other) const {
  if (mti_ != other.mti_ || !(fields_present_ == other.fields_present_)) return false;
  for (int field = fields_present_.Next(0); field != 0; field = fields_present_.Next(field)) {
    if (values_[Index(field)] != other.values_[Index(field)]) return false;
  }
  return true;
}

}  // namespace tangelo::gateway
