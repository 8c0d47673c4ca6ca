-- The os library, as LuaJIT 2.1 on glibc behaves. Exact date checks use UTC ("!");
-- local-time checks only assume that the local zone is consistent with itself.

local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  return (tostring(e):gsub("^[^:]*:%d+: ", ""))
end

-- os.date in UTC: every glibc conversion in the C locale (%s depends on the local zone)
local F = "!%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %n %p %P %r %R %S %t %T %u %U %V %w %W "
  .. "%x %X %y %Y %z %Z %%"
local expected = {
  [0] = "Thu Thursday Jan January Thu Jan  1 00:00:00 1970 19 01 01/01/70  1 1970-01-01 70 1970 Jan 00 12 001  0 12 "
    .. "01 00 \n AM am 12:00:00 AM 00:00 00 \t 00:00:00 4 00 01 4 00 01/01/70 00:00:00 70 1970 +0000 GMT %",
  [1e9] = "Sun Sunday Sep September Sun Sep  9 01:46:40 2001 20 09 09/09/01  9 2001-09-09 01 2001 Sep 01 01 252  1 "
    .. " 1 09 46 \n AM am 01:46:40 AM 01:46 40 \t 01:46:40 7 36 36 0 36 09/09/01 01:46:40 01 2001 +0000 GMT %",
  [-1] = "Wed Wednesday Dec December Wed Dec 31 23:59:59 1969 19 31 12/31/69 31 1969-12-31 70 1970 Dec 23 11 365 23 "
    .. "11 12 59 \n PM pm 11:59:59 PM 23:59 59 \t 23:59:59 3 52 01 3 52 12/31/69 23:59:59 69 1969 +0000 GMT %",
  [951782400] = "Tue Tuesday Feb February Tue Feb 29 00:00:00 2000 20 29 02/29/00 29 2000-02-29 00 2000 Feb 00 12 "
    .. "060  0 12 02 00 \n AM am 12:00:00 AM 00:00 00 \t 00:00:00 2 09 09 2 09 02/29/00 00:00:00 00 2000 +0000 GMT %",
  [4102444800] = "Fri Friday Jan January Fri Jan  1 00:00:00 2100 21 01 01/01/00  1 2100-01-01 99 2099 Jan 00 12 001"
    .. "  0 12 01 00 \n AM am 12:00:00 AM 00:00 00 \t 00:00:00 5 00 53 5 00 01/01/00 00:00:00 00 2100 +0000 GMT %",
  [-62135596800] = "Mon Monday Jan January Mon Jan  1 00:00:00 1 0 01 01/01/01  1 1-01-01 01 1 Jan 00 12 001  0 12 01"
    .. " 00 \n AM am 12:00:00 AM 00:00 00 \t 00:00:00 1 00 01 1 01 01/01/01 00:00:00 01 1 +0000 GMT %",
  [1234567890] = "Fri Friday Feb February Fri Feb 13 23:31:30 2009 20 13 02/13/09 13 2009-02-13 09 2009 Feb 23 11 044"
    .. " 23 11 02 31 \n PM pm 11:31:30 PM 23:31 30 \t 23:31:30 5 06 07 5 06 02/13/09 23:31:30 09 2009 +0000 GMT %",
}
for t, s in pairs(expected) do
  assert(os.date(F, t) == s, "os.date at " .. t .. ": " .. os.date(F, t))
end
assert(os.date("!%V %G %g %U %W", 1104537600) == "53 2004 04 00 00", "ISO week of 2005-01-01")
assert(os.date("!%V %G %g %U %W", 1230768000) == "01 2009 09 00 00", "ISO week of 2009-01-01")
assert(os.date("!%c", 2^31) == "Tue Jan 19 03:14:08 2038" and os.date("!%c", -2^31) == "Fri Dec 13 20:45:52 1901",
  "64-bit time_t")

-- glibc flags, widths, modifiers and unknown conversions
local t = 86400 * 45 + 3600 * 15 + 7
assert(os.date("!%-d %_d %0e %10Y %^a %#A %#b %^B %-j %3d %_5H %#Z %^p %#p %+", t)
  == "15 15 15 0000001970 SUN SUNDAY FEB FEBRUARY 46 015    15 gmt PM pm %+", "flags and widths")
assert(os.date("!%Q|%|%5|%E|%O|%Ez|%Oy|%Ey", 0) == "%Q|%|  %5|%E|%O|+0000|70|70", "unknown conversions")
assert(os.date("!%10z|%010z|%_10z|%-z|%^q|%#Q|%5n|%05t|%3%|%-3%|%5E%", 1e9)
  == "         +0000000000|000000000+0000000000|         +         0|+0|%^Q|%#Q|    \n|0000\t|  %|  %|    %",
  "odd widths")
assert(os.date("!%Ec|%EC|%Ex|%EX|%Ey|%EY|%Od|%Oe|%OH|%OI|%Om|%OM|%OS|%Ou|%OU|%OV|%Ow|%OW|%Oy", 1e9)
  == "Sun Sep  9 01:46:40 2001|20|09/09/01|01:46:40|01|2001|09| 9|01|01|09|46|40|7|36|36|0|36|01", "E and O")
assert(os.date("!%Ob|%OB|%E%|%Ea|%O%|%EP", 1e9) == "Sep|September|%|%Ea|%|am", "more modifiers")
assert(os.date("!%^c|%10a|%-10a|%010a|%#10A", 1e9) == "SUN SEP  9 01:46:40 2001|       Sun|       Sun|0000000Sun|    SUNDAY",
  "text widths")
local ym = -62167219200 - 86400 * 365 * 5
assert(os.date("!%Y|%C|%F|%05Y|%_5Y|%-5Y|%03C|%_4G", ym) == "-5|-1|-5-01-02|-0005|   -5|   -5|-01|  -5",
  "negative years")
assert(os.date("!%", 0) == "%" and os.date("!%5", 0) == "   %5", "a trailing %")
assert(os.date("!", 0) == "" and os.date("", 0) == "", "empty formats")
assert(os.date("!*tx", 0) == "*tx", "only exactly *t makes a table")
assert(os.date("!%Y\0%m", 0) == "1970", "the format stops at NUL, as a C string")
-- (LuaJIT gives up when strftime needs more than its scratch buffer, whose size depends on
-- history, and then returns its last argument: not tested.)
assert(#os.date("!%30Y|%31Y|%32Y", 0) == 95, "retries grow the buffer")

-- times convert to time_t as C casts do
assert(os.date("!%Y-%m-%d", 1.9e9) == "2030-03-17" and os.date("!%H", -0.5) == "00" and os.date("!%S", 59.99) == "59",
  "truncation toward zero")
assert(os.date("!%Y", 1e15) == "31690708" and os.date("!%Y", -1e12) == "-29719", "far years")
assert(os.date("!%Y", 1e17) == nil and os.date("!%Y", 0 / 0) == nil and os.date("!%Y", 1 / 0) == nil,
  "unrepresentable years give nil")
assert(os.date("!%Y", "100") == "1970", "numeric string time")
assert(err(function() local r = os.date("!%Y", "x") return r end)
  == "bad argument #2 to 'date' (number expected, got string)", "bad time")

-- *t
do
  local d = os.date("!*t", 1e9)
  assert(d.year == 2001 and d.month == 9 and d.day == 9 and d.hour == 1 and d.min == 46 and d.sec == 40, "!*t")
  assert(d.wday == 1 and d.yday == 252 and d.isdst == false, "!*t wday/yday/isdst")
  local l = os.date("*t", 1e9)
  assert(type(l.isdst) == "boolean" and l.min % 15 == 46 % 15, "local *t")
end

-- os.time: current time, round trips, normalisation, errors
do
  local now = os.time()
  assert(type(now) == "number" and now == math.floor(now) and now > 1.6e9, "os.time()")
  assert(os.time(nil) >= now, "os.time(nil)")
  for _, t in ipairs({0, 1e9, 1234567890, 951782400, 4102444800, -86400 * 365}) do
    assert(os.time(os.date("*t", t)) == t, "os.time(os.date('*t', t)) == t for " .. t)
  end
  local a = os.time({year = 2000, month = 13, day = 32, hour = 25, min = 61, sec = -1})
  local b = os.time({year = 2001, month = 2, day = 2, hour = 2, min = 0, sec = 59})
  assert(a == b, "out-of-range fields normalise like mktime")
  assert(os.time({year = 2000, month = 1, day = 1}) == os.time({year = 2000, month = 1, day = 1, hour = 12}),
    "hour defaults to 12")
  assert(os.time({year = 2000, month = 1, day = 2, hour = 0}) - os.time({year = 2000, month = 1, day = 1, hour = 0})
    == 86400, "one day")
  assert(os.time({year = "2000", month = "1", day = "1.7"}) == os.time({year = 2000, month = 1, day = 1}),
    "numeric strings, truncated")
  local proxy = setmetatable({}, {__index = function(_, k) return ({year = 2000, month = 1, day = 1})[k] end})
  assert(os.time(proxy) == os.time({year = 2000, month = 1, day = 1}), "fields are read with __index")
  assert(err(function() local r = os.time({year = 2000}) return r end) == "field 'day' missing in date table",
    "missing day")
  assert(err(function() local r = os.time({day = 1, month = 1}) return r end) == "field 'year' missing in date table",
    "missing year")
  assert(err(function() local r = os.time({year = "x", month = 1, day = 1}) return r end)
    == "field 'year' missing in date table", "non-numeric year")
  assert(err(function() local r = os.time(5) return r end) == "bad argument #1 to 'time' (table expected, got number)",
    "os.time of a number")
end

-- difftime, clock
assert(os.difftime(5, 3) == 2 and os.difftime(5) == 5 and os.difftime(5.7, 1.2) == 4 and os.difftime("5", 1) == 4,
  "difftime works on time_t values")
assert(err(function() local r = os.difftime() return r end)
  == "bad argument #1 to 'difftime' (number expected, got no value)", "difftime needs a time")
do
  local c0 = os.clock()
  assert(type(c0) == "number" and c0 >= 0, "clock")
  local x = 0
  for i = 1, 200000 do x = x + i end
  assert(os.clock() >= c0, "clock does not go backwards")
end

-- environment, files, processes
assert(os.getenv("MOONBOX_SURELY_NOT_SET_12345") == nil, "unset variable")
assert(err(function() local r = os.getenv() return r end) == "bad argument #1 to 'getenv' (string expected, got no value)",
  "getenv needs a name")
do
  local r, msg, code = os.remove("/nonexistent-dir/x")
  assert(r == nil and msg == "/nonexistent-dir/x: No such file or directory" and code == 2, "remove missing file")
  r, msg, code = os.rename("/nonexistent-dir/x", "/nonexistent-dir/y")
  assert(r == nil and msg == "/nonexistent-dir/x: No such file or directory" and code == 2, "rename missing file")
  assert(err(function() local r = os.remove() return r end) == "bad argument #1 to 'remove' (string expected, got no value)",
    "remove needs a name")
  local ok, name = pcall(os.tmpname)
  if ok then
    assert(name:sub(1, 9) == "/tmp/lua_" and #name == 15, "tmpname shape")
    local name2 = name .. "-renamed"
    assert(os.rename(name, name2) == true, "rename a temporary file")
    assert(os.remove(name2) == true, "remove it")
    assert(os.remove(name2) == nil, "it is gone")
  end
end
if os.execute() ~= 0 then   -- a shell is available: raw wait statuses
  assert(os.execute("exit 3") == 768 and os.execute("true") == 0, "os.execute returns system()'s status")
end

-- setlocale knows the C locale
assert(os.setlocale() == "C" and os.setlocale("C") == "C" and os.setlocale(nil, "all") == "C", "setlocale C")
assert(os.setlocale("xx_YY.nonexistent") == nil, "unknown locale")
assert(err(function() local r = os.setlocale(nil, "bad") return r end)
  == "bad argument #2 to 'setlocale' (invalid option 'bad')", "bad category")
print("ok")
