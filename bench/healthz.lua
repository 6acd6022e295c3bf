-- wrk script: GET /healthz, the HTTP floor (no database, a constant body). Like the other
-- scripts it builds its request in request(), so the client does the same work per request
-- and the comparison with them measures the server.
--   wrk -t1 -c16 -d10s --latency -s bench/healthz.lua http://127.0.0.1:PORT
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local req

function init(args)
	req = wrk.format("GET", "/healthz")
end

function request()
	return req
end

done = report.done("healthz")
