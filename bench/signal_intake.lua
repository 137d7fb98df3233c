-- wrk script for bench/signal_intake.py: POST the signal body with the strategy key and a new
-- Idempotency-Key per request (as a strategy that retries safely sends), then print the
-- summary as one JSON line.  Arguments: <run id> <api key> <json body>.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  run, key = args[1], args[2]
  wrk.method = "POST"
  wrk.body = args[3]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-API-KEY"] = key
  -- What the TLS proxy in front of production adds (the desk redirects plain HTTP to HTTPS).
  wrk.headers["X-Forwarded-Proto"] = "https"
  not2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    not2xx = not2xx + 1
  end
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter
  return wrk.format()
end

function done(summary, latency, requests)
  local e = summary.errors
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not2xx")
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"not2xx":%d,"p50":%.1f,"p95":%.1f,"p99":%.1f,"max":%.1f,"mean":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
