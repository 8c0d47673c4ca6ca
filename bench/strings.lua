-- strings: building strings with `..`, table.concat buffers, string.format,
-- string.rep/sub/byte/upper, and tostring of integer-valued numbers.
local n = tonumber(arg and arg[1]) or 400000

local format, concat, byte, sub = string.format, table.concat, string.byte, string.sub

-- a cheap position-sampled hash: reads a handful of bytes, not the whole string
local function sample_hash(s, h)
  local len = #s
  h = (h * 31 + len) % 2147483647
  if len > 0 then
    local step = math.floor(len / 7) + 1
    for i = 1, len, step do
      h = (h * 31 + byte(s, i)) % 2147483647
    end
    h = (h * 31 + byte(s, len)) % 2147483647
  end
  return h
end

local h, total = 0, 0

-- 1. repeated `..` onto a growing line, flushed every 40 pieces
do
  local line = ""
  local pieces = 0
  for i = 1, n do
    line = line .. "item" .. i .. ";"
    pieces = pieces + 1
    if pieces == 40 then
      total = total + #line
      h = sample_hash(line, h)
      line, pieces = "", 0
    end
  end
  total = total + #line
end

-- 2. table.concat of a buffer of formatted records. (Values are chosen so no %f
-- conversion hits an exact decimal tie: LuaJIT rounds those differently from C.)
do
  local buf = {}
  for i = 1, n do
    buf[#buf + 1] = format("%6d|%-8s|%8.3f|%x|%5.1f%%", i, "k" .. (i % 97), i / 7, i, (i % 1000) / 10)
  end
  local s = concat(buf, "\n")
  total = total + #s
  h = sample_hash(s, h)
  -- slice it back into pieces with sub
  local acc = 0
  for i = 1, #s - 50, 997 do
    acc = acc + #sub(s, i, i + 40)
  end
  total = total + acc
end

-- 3. string.format with several conversions, joined with separators
do
  local parts = {}
  for i = 1, math.floor(n / 4) do
    local name = string.rep(string.char(97 + i % 26), 1 + i % 5)
    parts[#parts + 1] = format("<%s id=\"%d\" w=%.2f>%s</%s>", name, i, i / 7, string.upper(name), name)
    if #parts == 64 then
      local s = concat(parts, ", ")
      total = total + #s
      h = sample_hash(s, h)
      parts = {}
    end
  end
  total = total + #concat(parts, ", ")
end

-- 4. small-string churn: reverse, lower, string comparisons
do
  local less = 0
  local prev = ""
  for i = 1, math.floor(n / 2) do
    local s = string.lower("Key" .. (i * 7919 % 10007))
    local r = string.reverse(s)
    if r < prev then less = less + 1 end
    prev = r
  end
  total = total + less
end

print(string.format("total length %d", total))
print(string.format("checksum: %d %d", total, h))
