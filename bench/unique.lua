-- wrk script: one request shape, made unique per request. "{n}" in the path and body becomes "<thread>-<count>",
-- so every PUT is a new transaction (never an idempotent replay) and every notification a new one.
-- Arguments after `--`: method, path, body, max requests per thread, access token (may be empty).
-- The last line it prints is `WRK_RESULT {json}` for bench/load.py.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local method, path, body, max_requests, headers
local counter = 0

function init(args)
  method, path, body = args[1], args[2], args[3]
  max_requests = tonumber(args[4])
  headers = { ["Content-Type"] = "application/json" }
  if args[5] ~= nil and args[5] ~= "" then
    headers["Authorization"] = "Bearer " .. args[5]
  end
end

function request()
  counter = counter + 1
  if counter >= max_requests then
    wrk.thread:stop()  -- bounded in count as well as in time
  end
  local n = thread_id .. "-" .. counter
  return wrk.format(method, (path:gsub("{n}", n)), headers, (body:gsub("{n}", n)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
