-- http: an HTTP server simulation: generate 100k raw request texts (in batches of 1000), parse them
-- (request line, headers, query strings with %-decoding, cookies, bodies), route
-- them through a table of path patterns with :params to handlers, and build full
-- response texts (status line, headers in a fixed order, bodies from string.format/concat).
local count = tonumber(arg and arg[1]) or 100000

local byte, char, find, format, gsub, gmatch, lower, match, sub =
  string.byte, string.char, string.find, string.format, string.gsub, string.gmatch,
  string.lower, string.match, string.sub
local concat, sort = table.concat, table.sort

local seed = 12345
local function rand(m)
  seed = seed * 16807 % 2147483647
  return seed % m
end

---------------------------------------------------------------- request texts
local agents = { "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "curl/8.5.0", "okhttp/4.12.0" }
local names = { "ana", "bruno", "chloe", "dmitri", "eve", "farah", "gus" }
local function make_request(i)
  local kind = rand(10)
  local method, path, body = "GET", nil, ""
  if kind < 3 then
    path = format("/users/%d", rand(1000))
  elseif kind < 5 then
    path = format("/search?q=%s%%20%s&page=%d&sort=%s", names[1 + rand(#names)], names[1 + rand(#names)],
      1 + rand(20), rand(2) == 0 and "asc" or "desc")
  elseif kind < 6 then
    method = "POST"
    path = "/users"
    body = format("name=%s+%s&age=%d&email=%s%%40example.com", names[1 + rand(#names)], names[1 + rand(#names)],
      18 + rand(60), names[1 + rand(#names)])
  elseif kind < 7 then
    path = format("/users/%d/orders/%d", rand(1000), rand(100000))
  elseif kind < 8 then
    method = "DELETE"
    path = format("/users/%d", rand(1000))
  elseif kind < 9 then
    path = format("/static/%s.%s", names[1 + rand(#names)], rand(2) == 0 and "css" or "js")
  else
    path = format("/nowhere/%d", rand(50))
  end
  local lines = {
    format("%s %s HTTP/1.1", method, path),
    "Host: api.example.com",
    "User-Agent: " .. agents[1 + rand(#agents)],
    format("Cookie: session=%08x; theme=%s", rand(2147483647), rand(2) == 0 and "dark" or "light"),
    format("X-Request-Id: req-%d", i),
  }
  if body ~= "" then
    lines[#lines + 1] = "Content-Type: application/x-www-form-urlencoded"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  return concat(lines, "\r\n") .. "\r\n\r\n" .. body
end


---------------------------------------------------------------- parsing
local function url_decode(s)
  if not find(s, "[%%+]") then return s end
  s = gsub(s, "+", " ")
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

local function parse_query(qs, into)
  for k, v in gmatch(qs, "([^&=]+)=([^&]*)") do
    into[url_decode(k)] = url_decode(v)
  end
  return into
end

local function parse_request(text)
  local head_end = find(text, "\r\n\r\n", 1, true)
  if not head_end then return nil, "incomplete head" end
  local method, target, version = match(text, "^(%u+) (%S+) HTTP/(%d%.%d)\r\n")
  if not method then return nil, "bad request line" end
  local req = { method = method, version = version, headers = {}, query = {}, cookies = {} }
  local qpos = find(target, "?", 1, true)
  if qpos then
    req.path = sub(target, 1, qpos - 1)
    parse_query(sub(target, qpos + 1), req.query)
  else
    req.path = target
  end
  local first_eol = find(text, "\r\n", 1, true)
  local head = sub(text, first_eol + 2, head_end + 1)
  for name, value in gmatch(head, "([^:\r\n]+):%s*([^\r\n]*)\r\n") do
    req.headers[lower(name)] = value
  end
  local cookie = req.headers.cookie
  if cookie then
    for k, v in gmatch(cookie, "([^=;%s]+)=([^;]*)") do req.cookies[k] = v end
  end
  req.body = sub(text, head_end + 4)
  local len = tonumber(req.headers["content-length"] or "0")
  if len ~= #req.body then return nil, "bad content-length" end
  if req.headers["content-type"] == "application/x-www-form-urlencoded" then
    req.form = parse_query(req.body, {})
  end
  return req
end

---------------------------------------------------------------- routing
local routes = {}
local function route(method, pattern, handler)
  local names = {}
  local lua_pattern = "^" .. gsub(pattern, ":(%w+)", function(name)
    names[#names + 1] = name
    return "([^/]+)"
  end) .. "$"
  routes[#routes + 1] = { method = method, pattern = lua_pattern, names = names, handler = handler }
end

local function dispatch(req)
  local path_matched = false
  for i = 1, #routes do
    local r = routes[i]
    local c1, c2 = match(req.path, r.pattern) -- routes have at most two :params
    if c1 then
      path_matched = true
      if r.method == req.method then
        local params, names = {}, r.names
        if names[1] then params[names[1]] = c1 end
        if names[2] then params[names[2]] = c2 end
        return r.handler(req, params)
      end
    end
  end
  if path_matched then return 405, { ["Allow"] = "GET, POST" }, "method not allowed\n" end
  return 404, {}, format("no route for %s %s\n", req.method, req.path)
end

local users_created = 0
route("GET", "/users/:id", function(req, p)
  local id = tonumber(p.id)
  return 200, { ["Content-Type"] = "application/json" },
    format('{"id":%d,"name":"%s","theme":"%s"}', id, names[1 + id % #names], req.cookies.theme or "none")
end)
route("DELETE", "/users/:id", function(req, p)
  if tonumber(p.id) % 7 == 0 then return 403, {}, "forbidden\n" end
  return 204, {}, ""
end)
route("POST", "/users", function(req)
  local f = req.form
  if not f or not f.name then return 400, {}, "missing name\n" end
  users_created = users_created + 1
  return 201, { ["Content-Type"] = "application/json", ["Location"] = "/users/" .. (1000 + users_created) },
    format('{"name":"%s","age":%d,"email":"%s"}', f.name, tonumber(f.age), f.email)
end)
route("GET", "/users/:id/orders/:order", function(req, p)
  return 200, { ["Content-Type"] = "application/json" },
    format('{"user":%s,"order":%s,"total":%.2f}', p.id, p.order, (tonumber(p.order) % 1000) / 4)
end)
route("GET", "/search", function(req)
  local q = req.query
  local results = {}
  local page = tonumber(q.page) or 1
  for i = 1, 5 do
    results[i] = format('{"rank":%d,"title":"%s result %d"}', (page - 1) * 5 + i, q.q or "", i)
  end
  return 200, { ["Content-Type"] = "application/json", ["X-Sort"] = q.sort or "asc" },
    "[" .. concat(results, ",") .. "]"
end)
route("GET", "/static/:file", function(req, p)
  local ext = match(p.file, "%.(%w+)$")
  local ctype = ext == "css" and "text/css" or "application/javascript"
  return 200, { ["Content-Type"] = ctype, ["Cache-Control"] = "max-age=3600" },
    string.rep("/* " .. p.file .. " */\n", 3)
end)

---------------------------------------------------------------- responses
local reasons = { [200] = "OK", [201] = "Created", [204] = "No Content", [400] = "Bad Request",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed" }
local header_order = { "Allow", "Cache-Control", "Content-Length", "Content-Type", "Location",
  "X-Request-Id", "X-Sort" }

local function build_response(req, status, headers, body)
  headers["Content-Length"] = tostring(#body)
  headers["X-Request-Id"] = req.headers["x-request-id"]
  local out, n = { format("HTTP/1.1 %d %s", status, reasons[status]) }, 1
  for i = 1, #header_order do -- a fixed header order, so the text is deterministic
    local name = header_order[i]
    local v = headers[name]
    if v then n = n + 1; out[n] = name .. ": " .. v end
  end
  out[n + 1] = ""
  out[#out + 1] = body
  return concat(out, "\r\n")
end

-- requests arrive in batches of 1000 raw texts, as from a connection pool
local by_status, total_bytes, hash, bad = {}, 0, 0, 0
local batch = {}
for first = 1, count, 1000 do
  local last = math.min(first + 999, count)
  for i = first, last do batch[i - first + 1] = make_request(i) end
  for j = 1, last - first + 1 do
    local req, err = parse_request(batch[j])
    if not req then
      bad = bad + 1
    else
      local status, headers, body = dispatch(req)
      local resp = build_response(req, status, headers, body)
      by_status[status] = (by_status[status] or 0) + 1
      total_bytes = total_bytes + #resp
      hash = (hash * 31 + byte(resp, #resp) + byte(resp, 10) + #resp) % 2147483647
    end
  end
end

local codes = {}
for code in pairs(by_status) do codes[#codes + 1] = code end
sort(codes)
local summary = {}
for _, code in ipairs(codes) do summary[#summary + 1] = format("%d=%d", code, by_status[code]) end
print(format("requests=%d bad=%d bytes=%d created=%d", count, bad, total_bytes, users_created))
print("statuses " .. concat(summary, " "))
print(format("checksum: %d %d %d %d %s", total_bytes, hash, bad, users_created, concat(summary, ",")))
