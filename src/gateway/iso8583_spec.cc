#include "gateway/iso8583_spec.h"

#include <charconv>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

namespace tangelo::gateway {

namespace {

using base::Result;
using base::Status;

constexpr std::string_view kFormatMagic = "tangelo-iso8583-spec";
constexpr std::string_view kFormatVersion = "1";

// Fields that carry cardholder or PIN data: always sensitive, whatever the
// dialect file says, so a dialect cannot leak them into logs by omission.
constexpr int kAlwaysSensitiveFields[] = {2, 14, 35, 36, 45, 52, 55};

bool IsNameChar(char c, bool allow_dash) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dash && c == '-');
}

bool IsName(std::string_view text, bool allow_dash) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!IsNameChar(c, allow_dash)) return false;
  }
  return true;
}

// Parses a decimal number of at most `digits_max` digits.
bool ParseDecimal(std::string_view text, size_t digits_max, uint32_t* value) {
  if (text.empty() || text.size() > digits_max) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return error == std::errc() && end == text.data() + text.size();
}

// Splits a line into whitespace-separated tokens, after stripping a comment.
std::vector<std::string_view> Tokenize(std::string_view line) {
  const size_t comment = line.find('#');
  if (comment != std::string_view::npos) line = line.substr(0, comment);
  std::vector<std::string_view> tokens;
  size_t position = 0;
  while (position < line.size()) {
    while (position < line.size() &&
           (line[position] == ' ' || line[position] == '\t' || line[position] == '\r')) {
      ++position;
    }
    const size_t start = position;
    while (position < line.size() && line[position] != ' ' && line[position] != '\t' &&
           line[position] != '\r') {
      ++position;
    }
    if (position > start) tokens.push_back(line.substr(start, position - start));
  }
  return tokens;
}

}  // namespace

// Builds an Iso8583Spec line by line. A class (not free functions) so it can
// be the spec's friend and carry the error context.
class Iso8583SpecParser {
 public:
  explicit Iso8583SpecParser(std::string_view origin) : origin_(origin) {}

  Result<Iso8583Spec> Parse(std::string_view text) {
    if (text.size() > kIso8583SpecFileSizeMax) {
      return base::InvalidArgument(std::string(origin_) + ": dialect file is " +
                                   std::to_string(text.size()) + " bytes, more than the " +
                                   std::to_string(kIso8583SpecFileSizeMax) + " allowed");
    }
    size_t position = 0;
    while (position <= text.size()) {
      size_t end = text.find('\n', position);
      if (end == std::string_view::npos) end = text.size();
      ++line_number_;
      const std::vector<std::string_view> tokens = Tokenize(text.substr(position, end - position));
      if (!tokens.empty()) TG_RETURN_IF_ERROR(ParseLine(tokens));
      position = end + 1;
    }
    TG_RETURN_IF_ERROR(Finish());
    return std::move(spec_);
  }

 private:
  Status Error(std::string_view what) const {
    return base::InvalidArgument(std::string(origin_) + ":" + std::to_string(line_number_) + ": " +
                                 std::string(what));
  }

  Status ParseLine(const std::vector<std::string_view>& tokens) {
    const std::string_view directive = tokens[0];
    if (!seen_format_) {
      if (directive != "format" || tokens.size() != 3 || tokens[1] != kFormatMagic) {
        return Error("the first line must be `format tangelo-iso8583-spec 1`");
      }
      if (tokens[2] != kFormatVersion) {
        return Error("unsupported dialect format version '" + std::string(tokens[2]) +
                     "' (this build reads version 1)");
      }
      seen_format_ = true;
      return Status::Ok();
    }
    if (directive == "field") return ParseField(tokens);
    if (directive == "message") return ParseMessage(tokens);
    if (directive == "format") return Error("duplicate `format` line");
    if (tokens.size() != 2) {
      return Error("`" + std::string(directive) + "` takes exactly one value");
    }
    const std::string_view value = tokens[1];
    if (directive == "dialect") {
      TG_RETURN_IF_ERROR(Once(&seen_dialect_, directive));
      if (!IsName(value, /*allow_dash=*/true)) {
        return Error("dialect name '" + std::string(value) + "' must match [a-z0-9_-]{1,64}");
      }
      spec_.dialect_ = std::string(value);
      return Status::Ok();
    }
    if (directive == "mti_encoding") {
      TG_RETURN_IF_ERROR(Once(&seen_mti_encoding_, directive));
      return Choose(directive, value,
                    {{"ascii", Iso8583MtiEncoding::kAscii}, {"bcd", Iso8583MtiEncoding::kBcd}},
                    &spec_.mti_encoding_);
    }
    if (directive == "bitmap_encoding") {
      TG_RETURN_IF_ERROR(Once(&seen_bitmap_encoding_, directive));
      return Choose(
          directive, value,
          {{"binary", Iso8583BitmapEncoding::kBinary}, {"hex", Iso8583BitmapEncoding::kHex}},
          &spec_.bitmap_encoding_);
    }
    if (directive == "length_encoding") {
      TG_RETURN_IF_ERROR(Once(&seen_length_encoding_, directive));
      return Choose(
          directive, value,
          {{"ascii", Iso8583LengthEncoding::kAscii}, {"bcd", Iso8583LengthEncoding::kBcd}},
          &spec_.length_encoding_);
    }
    if (directive == "secondary_bitmap") {
      TG_RETURN_IF_ERROR(Once(&seen_secondary_bitmap_, directive));
      return Choose(directive, value,
                    {{"on_demand", Iso8583SecondaryBitmap::kOnDemand},
                     {"always", Iso8583SecondaryBitmap::kAlways}},
                    &spec_.secondary_bitmap_);
    }
    if (directive == "acceptor_country_length") {
      TG_RETURN_IF_ERROR(Once(&seen_country_length_, directive));
      if (value != "2" && value != "3") {
        return Error("acceptor_country_length must be 2 or 3, not '" + std::string(value) + "'");
      }
      spec_.acceptor_country_length_ = static_cast<uint8_t>(value[0] - '0');
      return Status::Ok();
    }
    if (directive == "traceparent_field") {
      TG_RETURN_IF_ERROR(Once(&seen_traceparent_, directive));
      uint32_t number = 0;
      if (!ParseDecimal(value, 3, &number) ||
          (number != 0 && (number < static_cast<uint32_t>(kIso8583FieldNumberMin) ||
                           number > static_cast<uint32_t>(kIso8583FieldNumberMax)))) {
        return Error("traceparent_field must be 0 or a field number 2..128, not '" +
                     std::string(value) + "'");
      }
      spec_.traceparent_field_ = static_cast<int>(number);
      traceparent_line_ = line_number_;
      return Status::Ok();
    }
    return Error("unknown directive '" + std::string(directive) + "'");
  }

  // Sets *out to the value paired with `value` among `choices` (a directive
  // with exactly two spellings); the error lists both.
  template <typename Enum>
  Status Choose(std::string_view directive, std::string_view value,
                const std::pair<std::string_view, Enum> (&choices)[2], Enum* out) const {
    for (const auto& [name, choice] : choices) {
      if (value == name) {
        *out = choice;
        return Status::Ok();
      }
    }
    return Error(std::string(directive) + " must be " + std::string(choices[0].first) + " or " +
                 std::string(choices[1].first) + ", not '" + std::string(value) + "'");
  }

  Status Once(bool* seen, std::string_view directive) const {
    if (*seen) return Error("`" + std::string(directive) + "` given twice");
    *seen = true;
    return Status::Ok();
  }

  // field <number> <type> <length kind> <max> <encoding> <name> [sensitive]
  Status ParseField(const std::vector<std::string_view>& tokens) {
    if (tokens.size() != 7 && tokens.size() != 8) {
      return Error(
          "a field line is `field <number> <type> <fixed|LLVAR|LLLVAR> <max> <encoding> <name> "
          "[sensitive]`");
    }
    uint32_t number = 0;
    if (!ParseDecimal(tokens[1], 3, &number) ||
        number < static_cast<uint32_t>(kIso8583FieldNumberMin) ||
        number > static_cast<uint32_t>(kIso8583FieldNumberMax)) {
      return Error("field number '" + std::string(tokens[1]) +
                   "' must be 2..128 (field 1 is the secondary bitmap)");
    }
    Iso8583FieldSpec& field = spec_.fields_[number];
    if (field.defined) return Error("field " + std::to_string(number) + " defined twice");

    const std::string_view type = tokens[2];
    if (type == "n") {
      field.type = Iso8583FieldType::kNumeric;
    } else if (type == "an") {
      field.type = Iso8583FieldType::kAlphanumeric;
    } else if (type == "ans") {
      field.type = Iso8583FieldType::kAlphanumericSpecial;
    } else if (type == "b") {
      field.type = Iso8583FieldType::kBinary;
    } else {
      return Error("field type '" + std::string(type) + "' must be n, an, ans or b");
    }

    const std::string_view kind = tokens[3];
    uint16_t kind_max = 0;
    if (kind == "fixed") {
      field.length_kind = Iso8583LengthKind::kFixed;
      kind_max = kIso8583FixedLengthMax;
    } else if (kind == "LLVAR") {
      field.length_kind = Iso8583LengthKind::kLlvar;
      kind_max = kIso8583LlvarLengthMax;
    } else if (kind == "LLLVAR") {
      field.length_kind = Iso8583LengthKind::kLllvar;
      kind_max = kIso8583LllvarLengthMax;
    } else {
      return Error("length kind '" + std::string(kind) + "' must be fixed, LLVAR or LLLVAR");
    }

    uint32_t length_max = 0;
    if (!ParseDecimal(tokens[4], 3, &length_max) || length_max == 0 || length_max > kind_max) {
      return Error("field " + std::to_string(number) + ": max '" + std::string(tokens[4]) +
                   "' must be 1.." + std::to_string(kind_max) + " for " + std::string(kind));
    }
    field.length_max = static_cast<uint16_t>(length_max);

    const std::string_view encoding = tokens[5];
    if (encoding == "ascii") {
      field.encoding = Iso8583ContentEncoding::kAscii;
    } else if (encoding == "binary") {
      field.encoding = Iso8583ContentEncoding::kBinary;
    } else {
      return Error("encoding '" + std::string(encoding) + "' must be ascii or binary");
    }
    const bool binary_type = field.type == Iso8583FieldType::kBinary;
    const bool binary_encoding = field.encoding == Iso8583ContentEncoding::kBinary;
    if (binary_type != binary_encoding) {
      return Error("field " + std::to_string(number) + ": type " + std::string(type) +
                   " needs encoding " + (binary_type ? "binary" : "ascii") +
                   " in format version 1");
    }

    if (!IsName(tokens[6], /*allow_dash=*/false)) {
      return Error("field name '" + std::string(tokens[6]) + "' must match [a-z0-9_]{1,64}");
    }
    field.name = std::string(tokens[6]);
    if (tokens.size() == 8) {
      if (tokens[7] != "sensitive") {
        return Error("unexpected '" + std::string(tokens[7]) + "' (only `sensitive` may follow)");
      }
      field.sensitive = true;
    }
    for (int always : kAlwaysSensitiveFields) {
      if (static_cast<uint32_t>(always) == number) field.sensitive = true;
    }
    field.defined = true;
    spec_.defined_fields_.Add(static_cast<int>(number));
    return Status::Ok();
  }

  // message <mti> [response=<mti>] [required=<list>] [echo=<list>]
  Status ParseMessage(const std::vector<std::string_view>& tokens) {
    if (tokens.size() < 2) return Error("a message line needs an MTI");
    uint16_t mti = 0;
    if (!ParseMti(tokens[1], &mti)) {
      return Error("MTI '" + std::string(tokens[1]) + "' must be 4 digits");
    }
    for (uint32_t i = 0; i < spec_.message_count_; ++i) {
      if (spec_.messages_[i].mti == mti) return Error("MTI " + FormatMti(mti) + " listed twice");
    }
    if (spec_.message_count_ == kIso8583SpecMessagesMax) {
      return Error("more than " + std::to_string(kIso8583SpecMessagesMax) + " message lines");
    }
    Iso8583MessageSpec message;
    message.mti = mti;
    bool seen_response = false, seen_required = false, seen_echo = false;
    for (size_t i = 2; i < tokens.size(); ++i) {
      const std::string_view token = tokens[i];
      const size_t equals = token.find('=');
      if (equals == std::string_view::npos) {
        return Error("expected key=value, got '" + std::string(token) + "'");
      }
      const std::string_view key = token.substr(0, equals);
      const std::string_view value = token.substr(equals + 1);
      if (key == "response") {
        TG_RETURN_IF_ERROR(Once(&seen_response, "response"));
        if (!ParseMti(value, &message.response_mti)) {
          return Error("response MTI '" + std::string(value) + "' must be 4 digits");
        }
        message.has_response = true;
        response_lines_[spec_.message_count_] = line_number_;
      } else if (key == "required") {
        TG_RETURN_IF_ERROR(Once(&seen_required, "required"));
        TG_RETURN_IF_ERROR(ParseFieldList(value, &message.required));
      } else if (key == "echo") {
        TG_RETURN_IF_ERROR(Once(&seen_echo, "echo"));
        TG_RETURN_IF_ERROR(ParseFieldList(value, &message.echo));
      } else {
        return Error("unknown message key '" + std::string(key) + "' (response, required, echo)");
      }
    }
    if (!message.echo.empty() && !message.has_response) {
      return Error("MTI " + FormatMti(mti) + " has echo fields but no response");
    }
    spec_.messages_[spec_.message_count_++] = message;
    return Status::Ok();
  }

  static bool ParseMti(std::string_view text, uint16_t* mti) {
    uint32_t value = 0;
    if (text.size() != 4 || !ParseDecimal(text, 4, &value)) return false;
    *mti = static_cast<uint16_t>(value);
    return true;
  }

  Status ParseFieldList(std::string_view list, Iso8583FieldSet* set) const {
    size_t position = 0;
    while (position <= list.size()) {
      size_t comma = list.find(',', position);
      if (comma == std::string_view::npos) comma = list.size();
      const std::string_view item = list.substr(position, comma - position);
      uint32_t number = 0;
      if (!ParseDecimal(item, 3, &number) || spec_.field(static_cast<int>(number)) == nullptr) {
        return Error("'" + std::string(item) + "' is not a field defined above");
      }
      set->Add(static_cast<int>(number));
      position = comma + 1;
    }
    return Status::Ok();
  }

  Status Finish() {
    if (!seen_format_) {
      return base::InvalidArgument(std::string(origin_) +
                                   ": empty dialect file (no `format` line)");
    }
    if (!seen_dialect_) {
      return base::InvalidArgument(std::string(origin_) + ": missing `dialect` line");
    }
    if (spec_.traceparent_field_ != 0) {
      const Iso8583FieldSpec* field = spec_.field(spec_.traceparent_field_);
      if (field == nullptr || field->type != Iso8583FieldType::kAlphanumericSpecial ||
          field->length_max < kTraceparentSize) {
        line_number_ = traceparent_line_;
        return Error(
            "traceparent_field " + std::to_string(spec_.traceparent_field_) +
            " must be a defined ans field with max >= " + std::to_string(kTraceparentSize));
      }
    }
    for (uint32_t i = 0; i < spec_.message_count_; ++i) {
      const Iso8583MessageSpec& message = spec_.messages_[i];
      if (message.has_response && spec_.message(message.response_mti) == nullptr) {
        line_number_ = response_lines_[i];
        return Error("response MTI " + FormatMti(message.response_mti) +
                     " has no message line of its own");
      }
    }
    return Status::Ok();
  }

  std::string_view origin_;
  Iso8583Spec spec_;
  uint32_t line_number_ = 0;
  uint32_t traceparent_line_ = 0;
  std::array<uint32_t, kIso8583SpecMessagesMax> response_lines_{};
  bool seen_format_ = false;
  bool seen_dialect_ = false;
  bool seen_mti_encoding_ = false;
  bool seen_bitmap_encoding_ = false;
  bool seen_length_encoding_ = false;
  bool seen_secondary_bitmap_ = false;
  bool seen_country_length_ = false;
  bool seen_traceparent_ = false;
};

Result<Iso8583Spec> Iso8583Spec::Parse(std::string_view text, std::string_view origin) {
  return Iso8583SpecParser(origin).Parse(text);
}

Result<Iso8583Spec> Iso8583Spec::LoadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file.is_open()) return base::NotFound("cannot open ISO 8583 dialect file " + path);
  // Read one byte past the limit so an oversize file is reported, not cut.
  std::string text;
  text.resize(kIso8583SpecFileSizeMax + 1);
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) return base::IoError("error reading ISO 8583 dialect file " + path);
  text.resize(static_cast<size_t>(file.gcount()));
  return Parse(text, path);
}

const Iso8583MessageSpec* Iso8583Spec::message(uint16_t mti) const {
  for (uint32_t i = 0; i < message_count_; ++i) {
    if (messages_[i].mti == mti) return &messages_[i];
  }
  return nullptr;
}

std::string_view FieldTypeName(Iso8583FieldType type) {
  switch (type) {
    case Iso8583FieldType::kNumeric:
      return "n";
    case Iso8583FieldType::kAlphanumeric:
      return "an";
    case Iso8583FieldType::kAlphanumericSpecial:
      return "ans";
    case Iso8583FieldType::kBinary:
      return "b";
  }
  return "?";
}

std::string FormatMti(uint16_t mti) {
  TG_ASSERT(mti <= mti::kMax);
  std::string text(4, '0');
  for (int i = 3; i >= 0; --i) {
    text[static_cast<size_t>(i)] = static_cast<char>('0' + mti % 10);
    mti = static_cast<uint16_t>(mti / 10);
  }
  return text;
}

}  // namespace tangelo::gateway
