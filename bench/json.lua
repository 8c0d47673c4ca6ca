-- json: a pure-Lua JSON encoder and decoder, round-tripping 10k objects (string
-- escaping with gsub, number formatting, sorted object keys, a byte-level
-- recursive-descent parser with string.byte/string.find, \u escapes to UTF-8).
local count = tonumber(arg and arg[1]) or 10000
local rounds = tonumber(arg and arg[2]) or 1

local byte, char, find, format, sub, gsub = string.byte, string.char, string.find, string.format, string.sub, string.gsub
local concat, sort, floor = table.concat, table.sort, math.floor

---------------------------------------------------------------- encoder
local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f',
  ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
local function escape_char(c)
  return escapes[c] or format("\\u%04x", byte(c))
end

local encode_value

local function encode_string(s, buf)
  buf[#buf + 1] = '"'
  if find(s, '[%c"\\]') then s = gsub(s, '[%c"\\]', escape_char) end
  buf[#buf + 1] = s
  buf[#buf + 1] = '"'
end

local function encode_number(v, buf)
  if v ~= v or v == math.huge or v == -math.huge then error("cannot encode " .. tostring(v)) end
  if v == floor(v) and v > -1e15 and v < 1e15 then
    buf[#buf + 1] = format("%d", v)
  else
    buf[#buf + 1] = format("%.14g", v)
  end
end

function encode_value(v, buf)
  local t = type(v)
  if t == "string" then encode_string(v, buf)
  elseif t == "number" then encode_number(v, buf)
  elseif t == "boolean" then buf[#buf + 1] = v and "true" or "false"
  elseif t == "nil" then buf[#buf + 1] = "null"
  elseif t == "table" then
    if v[1] ~= nil or next(v) == nil then -- array
      buf[#buf + 1] = "["
      for i = 1, #v do
        if i > 1 then buf[#buf + 1] = "," end
        encode_value(v[i], buf)
      end
      buf[#buf + 1] = "]"
    else -- object, keys sorted so every engine produces the same text
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      sort(keys)
      buf[#buf + 1] = "{"
      for i = 1, #keys do
        if i > 1 then buf[#buf + 1] = "," end
        encode_string(keys[i], buf)
        buf[#buf + 1] = ":"
        encode_value(v[keys[i]], buf)
      end
      buf[#buf + 1] = "}"
    end
  else
    error("cannot encode a " .. t)
  end
end

local function encode(v)
  local buf = {}
  encode_value(v, buf)
  return concat(buf)
end

---------------------------------------------------------------- decoder
local decode_value

local function skip(s, pos)
  local _, e = find(s, "^[ \n\r\t]*", pos)
  return e + 1
end

local function decode_error(s, pos, what)
  error(format("JSON: %s at position %d near '%s'", what, pos, sub(s, pos, pos + 10)))
end

local function utf8_char(cp)
  if cp < 0x80 then return char(cp)
  elseif cp < 0x800 then return char(0xC0 + floor(cp / 64), 0x80 + cp % 64)
  else return char(0xE0 + floor(cp / 4096), 0x80 + floor(cp / 64) % 64, 0x80 + cp % 64) end
end

local unescape = { [98] = "\b", [102] = "\f", [110] = "\n", [114] = "\r", [116] = "\t",
  [34] = '"', [92] = "\\", [47] = "/" }

local function decode_string(s, pos) -- pos is just after the opening quote
  local parts, np = nil, 0
  local start = pos
  while true do
    local q = find(s, '["\\]', pos)
    if not q then decode_error(s, start, "unterminated string") end
    if byte(s, q) == 34 then -- closing quote
      if not parts then return sub(s, start, q - 1), q + 1 end
      np = np + 1; parts[np] = sub(s, pos, q - 1)
      return concat(parts), q + 1
    end
    parts = parts or {}
    np = np + 1; parts[np] = sub(s, pos, q - 1)
    local e = byte(s, q + 1)
    if e == 117 then -- \uXXXX
      local hex = sub(s, q + 2, q + 5)
      if not find(hex, "^%x%x%x%x$") then decode_error(s, q, "bad \\u escape") end
      np = np + 1; parts[np] = utf8_char(tonumber(hex, 16))
      pos = q + 6
    else
      local c = unescape[e]
      if not c then decode_error(s, q, "bad escape") end
      np = np + 1; parts[np] = c
      pos = q + 2
    end
  end
end

function decode_value(s, pos)
  pos = skip(s, pos)
  local c = byte(s, pos)
  if c == 123 then -- {
    local obj = {}
    pos = skip(s, pos + 1)
    if byte(s, pos) == 125 then return obj, pos + 1 end
    while true do
      if byte(s, pos) ~= 34 then decode_error(s, pos, "expected a key") end
      local k
      k, pos = decode_string(s, pos + 1)
      pos = skip(s, pos)
      if byte(s, pos) ~= 58 then decode_error(s, pos, "expected ':'") end
      obj[k], pos = decode_value(s, pos + 1)
      pos = skip(s, pos)
      local d = byte(s, pos)
      if d == 125 then return obj, pos + 1 end
      if d ~= 44 then decode_error(s, pos, "expected ',' or '}'") end
      pos = skip(s, pos + 1)
    end
  elseif c == 91 then -- [
    local arr, n = {}, 0
    pos = skip(s, pos + 1)
    if byte(s, pos) == 93 then return arr, pos + 1 end
    while true do
      n = n + 1
      arr[n], pos = decode_value(s, pos)
      pos = skip(s, pos)
      local d = byte(s, pos)
      if d == 93 then return arr, pos + 1 end
      if d ~= 44 then decode_error(s, pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == 34 then
    return decode_string(s, pos + 1)
  elseif c == 116 and sub(s, pos, pos + 3) == "true" then return true, pos + 4
  elseif c == 102 and sub(s, pos, pos + 4) == "false" then return false, pos + 5
  elseif c == 110 and sub(s, pos, pos + 3) == "null" then return nil, pos + 4
  else
    local _, e = find(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not e then decode_error(s, pos, "unexpected character") end
    return tonumber(sub(s, pos, e)), e + 1
  end
end

local function decode(s)
  local v, pos = decode_value(s, 1)
  pos = skip(s, pos)
  if pos <= #s then decode_error(s, pos, "trailing garbage") end
  return v
end

---------------------------------------------------------------- workload
local cities = { "Lisbon", "Porto", "Z\195\188rich", "S\195\163o Paulo", "Tokyo", "New York" }
local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }

local function make_object(i)
  local tags = {}
  for j = 1, 1 + i % 4 do tags[j] = words[1 + (i * j) % #words] end
  return {
    id = i,
    name = "user" .. i,
    email = format("user%d@example.com", i),
    active = i % 3 ~= 0,
    score = i / 7,
    balance = -(i % 13) / 4,
    tags = tags,
    address = { street = format("%d Main St", i % 500), city = cities[1 + i % #cities], zip = format("%05d", i * 37 % 100000) },
    note = (i % 10 == 0) and format("line one\nline \"two\"\twith \\ and \1 control %d", i) or "plain",
    history = { i % 100, (i * 3) % 100, (i * 7) % 100 },
  }
end

local objects = {}
for i = 1, count do objects[i] = make_object(i) end

local check_len, check_hash, ids, active, score, tagn = 0, 0, 0, 0, 0.0, 0
for round = 1, rounds do
  -- one big document
  local text = encode(objects)
  local back = decode(text)
  local again = encode(back)
  if again ~= text then error("round trip changed the document") end
  check_len = check_len + #text
  for i = 1, #text, 101 do check_hash = (check_hash * 31 + byte(text, i)) % 2147483647 end
  for i = 1, #back do
    local o = back[i]
    ids = ids + o.id
    if o.active then active = active + 1 end
    score = score + o.score + o.balance
    tagn = tagn + #o.tags + #o.address.city
  end
  -- many small documents
  for i = round, #objects, 4 do
    local s = encode(objects[i])
    local o = decode(s)
    check_len = check_len + #s + #o.note
  end
end

-- a few hand-written documents: whitespace, escapes, nesting, unicode
local doc = decode(' { "a" : [ 1 , 2.5 , -3e2 , true , false , null , "x\\u00e9\\u4e2d\\n" ] , "b" : { } , "c" : [ ] } ')
local extra = doc.a[1] + doc.a[2] * 2 + doc.a[3] + #doc.a[7] + (doc.a[6] == nil and 1 or 0)

print(string.format("objects=%d text=%d active=%d", count, check_len, active))
print(string.format("checksum: %d %d %d %d %d %.6f %d", check_len, check_hash, ids, active, tagn, score, extra))
