-- Replays pre-built requests from a file: one request per line, "<headers>\t<body>", where
-- <headers> is "Name: value" pairs separated by "|" (may be empty). Each wrk thread takes a
-- disjoint slice, so single-use artefacts (codes, refresh tokens, assertion jtis) are used once.
-- Args: <file> <nthreads> <path>

local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local lines, idx, path = {}, 0, "/"
local statuses = {}

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  path = args[3]
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then
      local h, b = line:match("^([^\t]*)\t(.*)$")
      local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
      for pair in string.gmatch(h, "[^|]+") do
        local name, value = pair:match("^([^:]+):%s*(.*)$")
        headers[name] = value
      end
      table.insert(lines, wrk.format("POST", path, headers, b))
    end
    i = i + 1
  end
end

function request()
  idx = idx + 1
  if idx > #lines then idx = 1 end
  return lines[idx]
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, \"errors\": %d, " ..
    "\"p50_us\": %d, \"p99_us\": %d, \"mean_us\": %.1f}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
