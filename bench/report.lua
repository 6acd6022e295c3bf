-- Shared by the wrk scripts in bench/: done() prints one line of key=value pairs that
-- scripts/bench parses (latencies in milliseconds, from wrk's histogram of every response).
-- Each script loads it from its own directory with dofile.
local report = {}

-- Returns a done(summary, latency, requests) function that labels its line with `name`.
function report.done(name)
	return function(summary, latency, requests)
		local e = summary.errors
		local seconds = summary.duration / 1e6
		local function ms(us)
			return us / 1000
		end
		io.write(string.format(
			"BENCH name=%s requests=%d seconds=%.3f req_per_s=%.1f bytes=%d"
				.. " errors_connect=%d errors_read=%d errors_write=%d errors_status=%d"
				.. " errors_timeout=%d lat_mean_ms=%.3f lat_p50_ms=%.3f lat_p90_ms=%.3f"
				.. " lat_p99_ms=%.3f lat_p999_ms=%.3f lat_max_ms=%.3f\n",
			name, summary.requests, seconds, summary.requests / seconds, summary.bytes,
			e.connect, e.read, e.write, e.status, e.timeout, ms(latency.mean),
			ms(latency:percentile(50)), ms(latency:percentile(90)),
			ms(latency:percentile(99)), ms(latency:percentile(99.9)), ms(latency.max)))
	end
end

-- Gives every wrk thread its own random sequence; call from setup(thread).
local counter = 0
function report.setup(thread)
	counter = counter + 1
	thread:set("thread_no", counter)
end

function report.seed()
	math.randomseed(os.time() * 1000 + (thread_no or 0))
	-- LuaJIT's first values after seeding are poorly mixed; skip a few.
	for _ = 1, 10 do
		math.random()
	end
end

return report
