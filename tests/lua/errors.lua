-- error, pcall, xpcall and runtime error messages.
-- The script is run as tests/lua/errors.lua, so messages carry that chunk name;
-- we only match the part after "<chunk>:<line>: " with this helper.
local function msg_of(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return e
end
local function strip(e)
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end
local function line_of(e) return tonumber(tostring(e):match("^[^:]*:(%d+): ")) end
local function here() return debug.getinfo(2, "l").currentline end

-- pcall returns true plus all results
local function three() return 1, 2, 3 end
assert(select("#", pcall(three)) == 4, "pcall results")
local ok, a, b = pcall(function(x, y) return x + y, x * y end, 3, 4)
assert(ok and a == 7 and b == 12, "pcall passes arguments")
assert(not pcall(pcall), "pcall without a function")

-- error with a string adds position at level 1
local e = msg_of(function() error("boom") end); local boom_line = here()
assert(strip(e) == "boom" and line_of(e) == boom_line, "error adds the position: " .. e)
assert(e:match("^[^:]*errors%.lua:%d+: boom$"), "chunk name is the script path: " .. e)
-- level 0: no position
e = msg_of(function() error("raw", 0) end)
assert(e == "raw", "level 0")
-- level 2: the caller's position
local function thrower() error("from caller", 2) end
local call_line
local function caller()
  call_line = here(); thrower()
end
e = msg_of(caller)
assert(line_of(e) == call_line and strip(e) == "from caller", "level 2 points at the caller: " .. e)
-- level 2 when the caller is pcall (a C function): no position
e = msg_of(function() error("no pos", 2) end)
assert(e == "no pos", "level 2 with a C caller: " .. e)
-- pcall(error, msg): level 1 is pcall itself, a C function
assert(select(2, pcall(error, "direct")) == "direct", "error called directly by pcall")

-- non-string error values pass through unchanged
local t = {code = 42}
ok, e = pcall(error, t)
assert(not ok and e == t, "table error value")
ok, e = pcall(function() error(t) end)
assert(e == t, "table error value from a Lua function")
ok, e = pcall(function() error(nil) end)
assert(not ok and e == nil, "nil error value")
ok, e = pcall(function() error() end)
assert(not ok and e == nil, "error() raises nil")
ok, e = pcall(function() error(true) end)
assert(e == true, "boolean error value")
ok, e = pcall(function() error(42) end); local l42 = here()
assert(strip(e) == "42" and line_of(e) == l42, "a number is converted to a string with position: " .. tostring(e))
assert(type(e) == "string", "number error value became a string")
ok, e = pcall(function() error(42, 0) end)
assert(e == 42, "number with level 0 stays a number")
local ud = newproxy(true)
getmetatable(ud).__tostring = function() return "UDERR" end
ok, e = pcall(error, ud)
assert(e == ud, "userdata error value")

-- error objects with methods (exception classes)
local Exc = {}
Exc.__index = Exc
Exc.__tostring = function(self) return "Exc(" .. self.msg .. ")" end
local function throw(m) error(setmetatable({msg = m}, Exc)) end
ok, e = pcall(throw, "bad thing")
assert(getmetatable(e) == Exc and e.msg == "bad thing" and tostring(e) == "Exc(bad thing)", "exception object")

-- nested pcall: inner error caught, outer continues
ok, e = pcall(function()
  local ok2, e2 = pcall(error, "inner")
  assert(not ok2 and e2 == "inner")
  return "outer fine"
end)
assert(ok and e == "outer fine", "nested pcall")
-- rethrow
ok, e = pcall(function()
  local ok2, e2 = pcall(error, {tag = "re"})
  error(e2)
end)
assert(type(e) == "table" and e.tag == "re", "rethrown table")

-- xpcall: handler receives the error and its result is returned
ok, e = xpcall(function() error("x") end, function(m) return "handled: " .. m end)
assert(not ok and e:match("^handled: .*: x$"), "xpcall handler: " .. e)
ok, e = xpcall(function() error({code = 7}) end, function(err) return err.code end)
assert(e == 7, "handler gets the table")
-- LuaJIT's xpcall passes extra arguments
ok, a, b = xpcall(function(x, y) return x + y, x - y end, print, 10, 3)
assert(ok and a == 13 and b == 7, "xpcall with arguments")
-- handler sees the stack of the error (traceback possible)
ok, e = xpcall(function() local x = nil; return x.field end, debug.traceback)
assert(not ok and e:find("attempt to index local 'x' (a nil value)", 1, true) and e:find("stack traceback:", 1, true), "traceback handler: " .. e)
-- error in the handler
ok, e = xpcall(function() error("a") end, function() error("b") end)
assert(not ok, "error in handler")
assert(e == "error in error handling" or type(e) == "string", "error in handler message: " .. tostring(e))
-- xpcall argument checks
assert(not pcall(xpcall), "xpcall needs arguments")
ok, e = pcall(xpcall, print)
assert(not ok and e:find("function expected", 1, true), "xpcall without handler: " .. e)
-- handler results: only the first is kept? (LuaJIT returns the handler's single result)
ok, a, b = xpcall(error, function(m) return m, "second" end, "z")
assert(not ok and a == "z", "handler result")

-- runtime error messages with variable names
local function em(f) return strip(msg_of(f)) end
assert(em(function() local x; return x.y end) == "attempt to index local 'x' (a nil value)", "index local")
assert(em(function() return undefined_global_zz.y end) == "attempt to index global 'undefined_global_zz' (a nil value)", "index global")
assert(em(function() local tt = {}; return tt.a.b end) == "attempt to index field 'a' (a nil value)", "index field")
local up
assert(em(function() return up.x end) == "attempt to index upvalue 'up' (a nil value)", "index upvalue")
assert(em(function() undefined_fn_zz() end) == "attempt to call global 'undefined_fn_zz' (a nil value)", "call global")
assert(em(function() local tt = {}; tt:nomethod() end) == "attempt to call method 'nomethod' (a nil value)", "call method")
assert(em(function() local tt = {}; tt.field() end) == "attempt to call field 'field' (a nil value)", "call field")
assert(em(function() local f; f() end) == "attempt to call local 'f' (a nil value)", "call local")
assert(em(function() local tt = {}; tt.x.y = 1 end) == "attempt to index field 'x' (a nil value)", "assign through nil field")
assert(em(function() local s = "x"; return s + 1 end) == "attempt to perform arithmetic on local 's' (a string value)", "arith on local string")
assert(em(function() return {} .. "x" end) == "attempt to concatenate a table value", "concat table")
assert(em(function() local n = nil; return "a" .. n end) == "attempt to concatenate local 'n' (a nil value)", "concat local nil")
assert(em(function() return ("x")() end) == "attempt to call a string value", "call a string")
assert(em(function() return 1 < {} end) == "attempt to compare number with table", "compare")
assert(em(function() local tt = {}; tt[nil] = 1 end) == "table index is nil", "nil index")
assert(em(function() local tt = {}; tt[0 / 0] = 1 end) == "table index is NaN", "nan index")
assert(em(function() local tt = {}; return tt.x + 1 end) == "attempt to perform arithmetic on field 'x' (a nil value)", "arith field")
assert(em(function() return -{} end) == "attempt to perform arithmetic on a table value", "unm table")
assert(em(function() return #print end) == "attempt to get length of global 'print' (a function value)", "len of function")

-- library argument errors (non-tail calls so that the function name is known)
local function lib(f) local r = strip(msg_of(f)); return r end
assert(lib(function() local r = string.rep() end) == "bad argument #1 to 'rep' (string expected, got no value)", "rep arg 1")
assert(lib(function() local r = ("x"):rep() end) == "bad argument #1 to 'rep' (number expected, got no value)", "method call argument numbering")
assert(lib(function() local r = math.floor("a") end) == "bad argument #1 to 'floor' (number expected, got string)", "floor")
assert(lib(function() local r = setmetatable(1, {}) end) == "bad argument #1 to 'setmetatable' (table expected, got number)", "setmetatable")
assert(lib(function() table.insert(nil, 1) end) == "bad argument #1 to 'insert' (table expected, got nil)", "insert")
assert(lib(function() table.insert({}, 1, 2, 3) end) == "wrong number of arguments to 'insert'", "insert arity")
assert(lib(function() local r = table.concat({{}}) end) == "invalid value (table) at index 1 in table for 'concat'", "concat invalid value")
assert(lib(function() local r = ipairs() end) == "bad argument #1 to 'ipairs' (value expected)", "ipairs without argument")
assert(lib(function() local r = ipairs(nil) end) == "bad argument #1 to 'ipairs' (table expected, got nil)", "ipairs(nil)")
assert(lib(function() local r = pairs() end) == "bad argument #1 to 'pairs' (value expected)", "pairs without argument")
assert(lib(function() local r = setmetatable({}) end) == "bad argument #2 to 'setmetatable' (nil or table expected)", "setmetatable arg 2")
assert(lib(function() local r = table.concat({1, 2}, "", 1, 3) end) == "invalid value (nil) at index 3 in table for 'concat'", "concat nil")
assert(lib(function() local r = next() end) == "bad argument #1 to 'next' (table expected, got no value)", "next")
assert(lib(function() local r = tostring() end) == "bad argument #1 to 'tostring' (value expected)", "tostring")
assert(lib(function() local r = string.char(256) end) == "bad argument #1 to 'char' (invalid value)", "char range")
assert(lib(function() local r = string.format("%d", {}) end) == "bad argument #2 to 'format' (number expected, got table)", "format")
assert(lib(function() local r = string.format("%y", 1) end) == "invalid option '%y' to 'format'", "format option")
assert(lib(function() local r = ("abc"):sub({}) end) == "bad argument #1 to 'sub' (number expected, got table)", "sub")
-- in a tail call the caller frame is gone and LuaJIT names the function '?'
ok, e = pcall(function() return ipairs() end)
assert(e == "bad argument #1 to '?' (value expected)", "tail-called builtin: " .. e)

-- errors inside metamethods and iterators propagate
assert(lib(function()
  local tt = setmetatable({}, {__index = function(_, k) error("idx " .. k) end})
  return tt.foo
end) == "idx foo", "error from __index")

-- error() with a table is not modified by levels
local obj = {}
ok, e = pcall(function() error(obj, 2) end)
assert(e == obj, "table with level")

-- assert
ok, e = pcall(assert, false)
assert(e == "assertion failed!", "default assert message")
ok, e = pcall(assert, nil, "custom")
assert(e == "custom", "assert message without position")
ok, e = pcall(assert, false, t)
assert(e == t, "assert with a table message")
assert(select("#", assert(1, 2, 3)) == 3, "assert returns all its arguments")
ok, e = pcall(assert)
assert(not ok and e == "bad argument #1 to '?' (value expected)", "assert without arguments (called by pcall, so unnamed): " .. e)

-- the state is usable after many errors
for i = 1, 1000 do pcall(error, i) end
local cnt = 0
for i = 1, 1000 do
  local okk = pcall(function() if i % 2 == 0 then error("even") end end)
  if not okk then cnt = cnt + 1 end
end
assert(cnt == 500, "errors in a loop")

-- error across a coroutine boundary: resume returns false + message
local co = coroutine.create(function() error("in co") end)
local okc, ec = coroutine.resume(co)
assert(not okc and strip(ec) == "in co", "coroutine error")

-- pcall inside a metamethod
local safe = setmetatable({}, {__index = function(_, k)
  local okk, v = pcall(error, "nested " .. k)
  return v
end})
assert(safe.z == "nested z", "pcall inside __index")

-- error with a very long message
local long = string.rep("x", 10000)
ok, e = pcall(error, long)
assert(e == long, "long message")
print("ok")
