-- patterns: Lua string patterns over web-server log lines: string.match with
-- captures, string.find (plain and pattern), string.gmatch, string.gsub with
-- string/table/function replacements.
local n = tonumber(arg and arg[1]) or 50000

-- deterministic pseudo-random numbers (Park-Miller; exact on doubles and integers)
local seed = 42
local function rand(m)
  seed = seed * 16807 % 2147483647
  return seed % m
end

local methods = { "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD" }
local paths = { "/", "/index.html", "/api/v1/users", "/api/v1/users/%d", "/static/app.js",
  "/static/style.css", "/search?q=lua+patterns&page=%d", "/api/v1/orders/%d/items",
  "/login", "/favicon.ico" }
local statuses = { 200, 200, 200, 200, 301, 304, 404, 500, 201, 403 }
local agents = { "Mozilla/5.0 (X11; Linux x86_64)", "curl/8.1.2", "Go-http-client/1.1",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 13_4)", "python-requests/2.31" }
local months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- 1. generate the log
local lines = {}
for i = 1, n do
  local ip = string.format("%d.%d.%d.%d", 10 + rand(3), rand(256), rand(256), 1 + rand(254))
  local path = string.format(paths[1 + rand(#paths)], rand(5000))
  local line = string.format('%s - user%d [%02d/%s/2024:%02d:%02d:%02d +0000] "%s %s HTTP/1.1" %d %d "-" "%s" rt=%d.%03d',
    ip, rand(50), 1 + rand(28), months[1 + rand(12)], rand(24), rand(60), rand(60),
    methods[1 + rand(#methods)], path, statuses[1 + rand(#statuses)], rand(90000),
    agents[1 + rand(#agents)], rand(3), rand(1000))
  lines[i] = line
end

-- 2. parse every line with one big match
local pattern = '^(%d+%.%d+%.%d+%.%d+) %- (%w+) %[(%d+)/(%a+)/(%d+):(%d+):(%d+):(%d+) ([%+%-]%d+)%] "(%u+) ([^ ]+) HTTP/([%d%.]+)" (%d+) (%d+) "([^"]*)" "([^"]*)" rt=([%d%.]+)$'
local by_status, by_method, by_hour, ips = {}, {}, {}, {}
local bytes, nips, rt_ms = 0, 0, 0
for i = 1, n do
  local ip, user, day, mon, year, hh, mm, ss, tz, method, path, ver, status, size, ref, agent, rt =
    string.match(lines[i], pattern)
  if not ip then error("no match: " .. lines[i]) end
  status = tonumber(status)
  by_status[status] = (by_status[status] or 0) + 1
  by_method[method] = (by_method[method] or 0) + 1
  local h = tonumber(hh)
  by_hour[h] = (by_hour[h] or 0) + 1
  bytes = bytes + tonumber(size)
  if not ips[ip] then ips[ip] = true; nips = nips + 1 end
  local sec, ms = string.match(rt, "^(%d+)%.(%d+)$")
  rt_ms = rt_ms + tonumber(sec) * 1000 + tonumber(ms)
end

-- 3. find: plain substring searches and anchored patterns
local api, static, bots, queries = 0, 0, 0, 0
for i = 1, n do
  local l = lines[i]
  if string.find(l, "/api/", 1, true) then api = api + 1 end
  if string.find(l, "%.css") or string.find(l, "%.js ") then static = static + 1 end
  if string.find(l, "curl", 1, true) or string.find(l, "python%-requests") then bots = bots + 1 end
  local s, e = string.find(l, "%?[^ ]*")
  if s then queries = queries + (e - s) end
end

-- 4. gmatch: tokenize words and numbers
local words, numsum = 0, 0
for i = 1, n, 2 do
  local l = lines[i]
  for w in string.gmatch(l, "%a+") do words = words + #w end
  for d in string.gmatch(l, "%d+") do numsum = (numsum + tonumber(d)) % 1000000007 end
end

-- 5. gsub: anonymize IPs (function), normalize ids (string), expand month names (table)
local month_num = {}
for i, m in ipairs(months) do month_num[m] = string.format("%02d", i) end
local anon_len, subs = 0, 0
for i = 1, n, 2 do
  local l = lines[i]
  local c1, c2, c3
  l, c1 = string.gsub(l, "^(%d+)%.(%d+)%.%d+%.%d+", function(a, b) return a .. "." .. b .. ".x.x" end)
  l, c2 = string.gsub(l, "/(%d+)", "/:id")
  l, c3 = string.gsub(l, "/(%a%a%a)/", function(m) return "/" .. (month_num[m] or m) .. "/" end)
  l = string.gsub(l, "%s+", " ")
  anon_len = anon_len + #l
  subs = subs + c1 + c2 + c3
end

local sc = 0
for code, c in pairs(by_status) do sc = sc + code * c end
local mc = 0
for m, c in pairs(by_method) do mc = mc + #m * c end
local hc = 0
for hh, c in pairs(by_hour) do hc = hc + (hh + 1) * c end

print(string.format("lines=%d bytes=%d ips=%d 404s=%d GETs=%d", n, bytes, nips, by_status[404] or 0, by_method.GET or 0))
print(string.format("api=%d static=%d bots=%d words=%d subs=%d", api, static, bots, words, subs))
print(string.format("checksum: %d %d %d %d %d %d %d %d %d %d %d %d %d %d", bytes, nips, rt_ms, sc, mc, hc,
  api, static, bots, queries, words, numsum, anon_len, subs))
