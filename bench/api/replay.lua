-- Replays pre-signed request paths (one per line in REQS_FILE); each wrk thread takes every Nth line
-- so no SignatureNonce is sent twice. With HIST_FILE set it also writes the latency histogram
-- ("<microseconds> <count>" per line, then a summary line) there, so runs against several API nodes
-- merge into one exact distribution (bench/scale/poll.py).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  paths = {}
  local i = 0
  for line in io.lines(os.getenv("REQS_FILE")) do
    if i % nthreads == id then table.insert(paths, line) end
    i = i + 1
  end
  idx = 0
end

function request()
  idx = idx + 1
  if idx > #paths then idx = 1 end
  return wrk.format("GET", paths[idx])
end

-- Optional think time per connection (THINK_MS): a paced, open-loop-like load of polling clients.
local think = tonumber(os.getenv("THINK_MS") or "0")
if think > 0 then
  function delay()
    return think
  end
end

if os.getenv("HIST_FILE") then
  function done(summary, latency, requests)
    local f = io.open(os.getenv("HIST_FILE"), "w")
    for i = 1, #latency do
      local value, count = latency(i)
      f:write(string.format("%d %d\n", value, count))
    end
    local e = summary.errors
    f:write(string.format("# requests %d errors %d seconds %f status %d connect %d read %d write %d timeout %d\n",
      summary.requests, e.status + e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
      e.status, e.connect, e.read, e.write, e.timeout))
    f:close()
  end
end
