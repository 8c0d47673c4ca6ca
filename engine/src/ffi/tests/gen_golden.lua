-- Generates luajit_golden.txt from luajit_cases.txt with the reference LuaJIT:
--
--   luajit engine/src/ffi/tests/gen_golden.lua all engine/src/ffi/tests/luajit_cases.txt \
--     > engine/src/ffi/tests/luajit_golden.txt
--
-- Cases come in blocks separated by blank lines; each block runs in a fresh
-- luajit process (so anonymous struct numbers match a fresh type table). A case
-- is one line "OP ARG" ("\n" in ARG stands for a newline):
--   T <type>           ffi.typeof: repr, sizeof, alignof (or the error)
--   C <decls>          ffi.cdef: ok or the error
--   O <type>|<field>   ffi.offsetof (offset, and bit position and width)
--   S <type>|<n>       ffi.sizeof with a number of elements
--   K <name>           ffi.C[name] of a constant
-- The golden file repeats each case line followed by " ==> " and the result.
local ffi = require "ffi"
local mode, file, which = ...

local blocks, cur = {}, nil
for line in io.lines(file) do
  if line:match("^%s*$") then
    cur = nil
  elseif not line:match("^%-%-") then
    if not cur then cur = {}; blocks[#blocks + 1] = cur end
    cur[#cur + 1] = line
  end
end

if mode == "all" then
  local me = arg[0]
  for i = 1, #blocks do
    local p = assert(io.popen("luajit " .. me .. " block " .. file .. " " .. i))
    io.write(p:read("*a"))
    p:close()
    if i < #blocks then io.write("\n") end
  end
  return
end

local function unesc(s) return (s:gsub("\\n", "\n")) end
local function errstr(e) return "err " .. tostring(e) end

for _, line in ipairs(blocks[tonumber(which)]) do
  local op, a = line:match("^(%u) ?(.*)$")
  local res
  if op == "T" then
    local ok, ct = pcall(ffi.typeof, unesc(a))
    if not ok then
      res = errstr(ct)
    else
      local okz, sz = pcall(ffi.sizeof, ct)
      res = string.format("%s size=%s align=%s", tostring(ct), okz and tostring(sz) or "?", tostring(ffi.alignof(ct)))
    end
  elseif op == "C" then
    local ok, e = pcall(ffi.cdef, unesc(a))
    res = ok and "ok" or errstr(e)
  elseif op == "O" then
    local t, f = a:match("^(.*)|(.*)$")
    local ok, o, pos, bits = pcall(ffi.offsetof, t, f)
    if not ok then res = errstr(o)
    elseif o == nil then res = "nil"
    elseif pos then res = string.format("%d,%d,%d", o, pos, bits)
    else res = tostring(o) end
  elseif op == "S" then
    local t, n = a:match("^(.*)|(.*)$")
    local ok, sz = pcall(ffi.sizeof, t, tonumber(n))
    res = ok and tostring(sz) or errstr(sz)
  elseif op == "K" then
    local ok, v = pcall(function() return ffi.C[a] end)
    res = ok and tostring(v) or "err"
  else
    error("bad case: " .. line)
  end
  io.write(line, " ==> ", res, "\n")
end
