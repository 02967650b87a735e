#include "api/router.h"

#include "base/assert.h"

namespace tangelo::api {
namespace {

// Splits "/a/b/c" into segments; false when there are too many, or an empty
// segment (a double or trailing slash), which no route has.
bool Split(std::string_view path, std::array<std::string_view, kRouteSegmentsMax + 1>* out,
           size_t* count) {
  *count = 0;
  if (path.empty() || path[0] != '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end == start) return false;
    if (*count == kRouteSegmentsMax) return false;
    (*out)[(*count)++] = path.substr(start, end - start);
    start = end + 1;
  }
  return true;
}

}  // namespace

void Router::Add(std::string_view method, std::string_view pattern, uint32_t route_id) {
  std::array<std::string_view, kRouteSegmentsMax + 1> parts;
  size_t count = 0;
  TG_ASSERT_MSG(Split(pattern, &parts, &count), "bad route pattern");
  Route route{std::string(method), {}, route_id};
  size_t captures = 0;
  for (size_t i = 0; i < count; ++i) {
    route.segments.emplace_back(parts[i]);
    if (parts[i] == "{}") ++captures;
  }
  TG_ASSERT(captures <= kRouteCapturesMax);
  routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  RouteMatch match;
  std::array<std::string_view, kRouteSegmentsMax + 1> parts;
  size_t count = 0;
  if (!Split(path, &parts, &count)) return match;
  for (const Route& route : routes_) {
    if (route.segments.size() != count) continue;
    size_t captured = 0;
    bool same = true;
    std::array<std::string_view, kRouteCapturesMax> captures{};
    for (size_t i = 0; i < count && same; ++i) {
      if (route.segments[i] == "{}") {
        captures[captured++] = parts[i];
      } else {
        same = route.segments[i] == parts[i];
      }
    }
    if (!same) continue;
    if (route.method == method || (method == "HEAD" && route.method == "GET")) {
      match.kind = RouteMatch::Kind::kFound;
      match.route_id = route.route_id;
      match.captures = captures;
      match.allow.clear();
      return match;
    }
    match.kind = RouteMatch::Kind::kMethodNotAllowed;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += route.method;
  }
  return match;
}

}  // namespace tangelo::api
