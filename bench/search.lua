-- wrk script: GET /api/v1/registers/RID/persons?q=PREFIX, a search by the start of a name,
-- with PREFIX drawn at random per request from prefixes of common Finnish surnames
-- (url-encoded UTF-8, so "mäk" is m%C3%A4k). RID from the environment (default rauma-crm).
-- The server returns the first page (50 by default) of matches.
--   wrk -t1 -c16 -d10s --latency -s bench/search.lua http://127.0.0.1:PORT
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local prefixes = {
	"vir",          -- Virtanen
	"korh",         -- Korhonen
	"m%C3%A4k",     -- Mäkinen, Mäkelä
	"nie",          -- Nieminen, Niemi
	"h%C3%A4m",     -- Hämäläinen
	"lai",          -- Laine, Laitinen
	"heik",         -- Heikkinen, Heikkilä
	"kosk",         -- Koskinen
	"j%C3%A4rv",    -- Järvinen
	"leht",         -- Lehtonen, Lehtinen
	"saar",         -- Saarinen
	"salm",         -- Salminen
	"hein",         -- Heinonen
	"kinn",         -- Kinnunen
	"tur",          -- Turunen
	"pelt",         -- Peltonen
	"karj",         -- Karjalainen
	"jok",          -- Jokinen
	"matt",         -- Mattila
	"sav",          -- Savolainen
	"tuom",         -- Tuominen
	"aho",          -- Ahonen
	"lah",          -- Lahtinen
	"sal",          -- Salonen, Salminen, Sallinen
	"lind",         -- Lindström, Lindroos
	"sj%C3%B6",     -- Sjöberg, Sjöholm
}
local reqs = {}

setup = report.setup

function init(args)
	local token = os.getenv("TOKEN")
	if token and token ~= "" then
		wrk.headers["Authorization"] = "Bearer " .. token
	end
	local base = "/api/v1/registers/" .. (os.getenv("RID") or "rauma-crm") .. "/persons?q="
	for i, p in ipairs(prefixes) do
		reqs[i] = wrk.format("GET", base .. p)
	end
	report.seed()
end

function request()
	return reqs[math.random(1, #reqs)]
end

done = report.done("search_prefix")
