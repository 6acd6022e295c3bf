-- wrk script: GET /api/v1/registers/RID/persons/ID with ID uniform at random in 1..N.
-- N comes from the script argument or the environment variable N; RID from RID
-- (default rauma-crm).
--   wrk -t1 -c16 -d10s --latency -s bench/person.lua http://127.0.0.1:PORT -- 1000000
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local n, prefix

setup = report.setup

function init(args)
	n = tonumber(args[1] or os.getenv("N") or "")
	if not n or n < 1 or n ~= math.floor(n) then
		error("person.lua: give N, the highest person id, as the script argument or $N")
	end
	prefix = "/api/v1/registers/" .. (os.getenv("RID") or "rauma-crm") .. "/persons/"
	local token = os.getenv("TOKEN")
	if token and token ~= "" then
		wrk.headers["Authorization"] = "Bearer " .. token
	end
	report.seed()
end

function request()
	return wrk.format("GET", prefix .. math.random(1, n))
end

done = report.done("person_get")
