-- Replays pre-built requests from a file: one request per line, "<headers>\t<body>", where
-- <headers> is "Name: value" pairs separated by "|" (may be empty).
-- Single-use artefacts (codes, refresh tokens, assertion jtis): each wrk thread takes a
-- disjoint slice, so each is sent once; a thread that runs out starts over and counts it as
-- "wrapped" (the harness refuses such a round: its replays would be measured as successes or
-- failures of a different path). A file with fewer lines than threads (a fixed body, cycled)
-- is given whole to every thread, so no thread sits idle.
-- Args: <file> <nthreads> <path>

local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local lines, idx, path = {}, 0, "/"
wrapped = 0

local function parse(line)
  local h, b = line:match("^([^\t]*)\t(.*)$")
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  for pair in string.gmatch(h, "[^|]+") do
    local name, value = pair:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  return wrk.format("POST", path, headers, b)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  path = args[3]
  local all = {}
  for line in io.lines(file) do
    if line ~= "" then table.insert(all, line) end
  end
  local shared = #all < nthreads
  for i, line in ipairs(all) do
    if shared or (i - 1) % nthreads == tid then
      table.insert(lines, parse(line))
    end
  end
end

function request()
  idx = idx + 1
  if idx > #lines then
    idx = 1
    wrapped = wrapped + 1
  end
  return lines[idx]
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (tonumber(thread:get("wrapped")) or 0)
  end
  io.write(string.format(
    "BENCH_JSON {\"requests\": %d, \"duration_us\": %d, \"non2xx\": %d, \"errors\": %d, " ..
    "\"p50_us\": %d, \"p99_us\": %d, \"mean_us\": %.1f, \"wrapped\": %d}\n",
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, wraps))
end
