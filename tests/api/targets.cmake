# The API's end-to-end targets; included from tests/api/CMakeLists.txt, or
# from src/api/CMakeLists.txt until tests/CMakeLists.txt adds tests/api.
set(_api_tests ${PROJECT_SOURCE_DIR}/tests/api)
tangelo_test(NAME api_e2e_test
  SRCS ${_api_tests}/api_e2e_test.cc ${_api_tests}/spec_validator.cc
  DEPS api LIBS simdjson::simdjson LABELS integration)

if(TARGET tangelo_api_engine)
  tangelo_test(NAME api_engine_e2e_test
    SRCS ${_api_tests}/api_engine_e2e_test.cc ${_api_tests}/spec_validator.cc
    DEPS api_engine LIBS simdjson::simdjson LABELS integration)
endif()

# The OpenAPI document must lint clean with Redocly CLI (npm install first).
if(TANGELO_BUILD_TESTS)
  add_test(NAME api_openapi_lint
           COMMAND npx --no-install @redocly/cli lint docs/api/openapi.yaml
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(api_openapi_lint PROPERTIES LABELS integration TIMEOUT 120)
endif()
