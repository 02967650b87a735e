-- wrk script: POST /v1/simulate/authorizations with keep-alive.
-- Usage: wrk -t2 -c64 -d10s -s tests/api/wrk_authorize.lua http://127.0.0.1:PORT -- KEY CARD
function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/simulate/authorizations"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"card_id":"' .. args[2] .. '","amount":1,"currency":"EUR","mcc":5411}'
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
