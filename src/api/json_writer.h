// JsonWriter: appends compact JSON to a string. Keys and strings are escaped
// per RFC 8259 (control characters as \u00XX; invalid UTF-8 bytes replaced
// by U+FFFD so a response is always valid JSON). The caller is responsible
// for well-formed nesting (asserted in debug builds by the comma logic only).
// Not thread safe; one per response.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tangelo::api {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& BeginObject() { Separate(); out_ += '{'; first_ = true; return *this; }
  JsonWriter& EndObject() { out_ += '}'; first_ = false; return *this; }
  JsonWriter& BeginArray() { Separate(); out_ += '['; first_ = true; return *this; }
  JsonWriter& EndArray() { out_ += ']'; first_ = false; return *this; }
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate() {
    if (after_key_) { after_key_ = false; return; }
    if (!first_) out_ += ',';
    first_ = false;
  }
  void Escape(std::string_view text);

  std::string out_;
  bool first_ = true;
  bool after_key_ = false;
};

}  // namespace tangelo::api
