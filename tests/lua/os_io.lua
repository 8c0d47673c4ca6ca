-- The os and io libraries, as a typical script uses them.

-- os
assert(type(os.time()) == "number" and os.time() > 1500000000, "os.time")
local now = os.time()
assert(os.time(os.date("*t", now)) == now, "os.date('*t') round trips through os.time")
local tt = os.date("*t", now)
assert(tt.year >= 2017 and tt.month >= 1 and tt.month <= 12 and tt.day >= 1 and type(tt.isdst) == "boolean", "date table fields")
assert(os.date("!%Y-%m-%d %H:%M:%S", 0) == "1970-01-01 00:00:00", "UTC formatting of the epoch")
assert(os.date("!%Y-%m-%d", 86400 * 365) == "1971-01-01", "one year later")
local u = os.date("!*t", 86400 + 3661)
assert(u.year == 1970 and u.month == 1 and u.day == 2 and u.hour == 1 and u.min == 1 and u.sec == 1 and u.wday == 6 and u.yday == 2, "UTC date table")
assert(os.date("!%j %a %b %p", 0) == "001 Thu Jan AM", "more conversions")
assert(os.time({year = 2000, month = 1, day = 1, hour = 12}) - os.time({year = 2000, month = 1, day = 1, hour = 0}) == 43200, "os.time differences")
assert(os.time({year = 2000, month = 1, day = 32, hour = 12}) == os.time({year = 2000, month = 2, day = 1, hour = 12}), "normalisation of out-of-range fields")
assert(os.difftime(10, 4) == 6, "difftime")
assert(type(os.clock()) == "number" and os.clock() >= 0, "clock")
assert(type(os.getenv("PATH")) == "string" and os.getenv("MOONBOX_SURELY_UNSET_VAR") == nil, "getenv")
assert(type(os.date()) == "string", "os.date() default format")

-- files: write, read back in every mode
local name = os.tmpname()
assert(type(name) == "string", "tmpname")
local f = assert(io.open(name, "w"))
assert(io.type(f) == "file", "io.type of an open file")
assert(f:write("line1\n", "line2\n", 42, " ", 3.5, "\n", "last") == f or true, "write returns")
f:close()
assert(io.type(f) == "closed file", "closed file")
assert(tostring(f) == "file (closed)", "tostring of a closed file")
local ok, err = pcall(f.write, f, "x")
assert(not ok and err:find("attempt to use a closed file", 1, true), "write to a closed file: " .. tostring(err))

f = assert(io.open(name, "r"))
assert(f:read() == "line1", "read default is a line")
assert(f:read("*l") == "line2", "*l")
local n1, n2 = f:read("*n", "*n")
assert(n1 == 42 and n2 == 3.5, "*n reads numbers")
assert(f:read("*l") == "", "rest of the number line")
assert(f:read("*a") == "last", "*a reads the rest")
assert(f:read("*a") == "", "*a at EOF is an empty string")
assert(f:read("*l") == nil, "*l at EOF is nil")
assert(f:read(0) == nil, "read(0) at EOF is nil")
f:close()

f = assert(io.open(name, "rb"))
assert(f:read(3) == "lin", "read a byte count")
assert(f:read(0) == "", "read(0) before EOF is an empty string")
assert(f:seek() == 3, "seek() reports the position")
assert(f:seek("set", 1) == 1 and f:read(2) == "in", "seek set")
assert(f:seek("end") == 23, "seek end gives the size")
f:close()

-- lines
local lines = {}
for l in io.lines(name) do lines[#lines + 1] = l end
assert(#lines == 4 and lines[1] == "line1" and lines[4] == "last", "io.lines")
f = assert(io.open(name))
local cnt = 0
for l in f:lines() do cnt = cnt + 1 end
assert(cnt == 4, "file:lines")
f:close()

-- append mode
f = assert(io.open(name, "a"))
f:write("\nappended")
f:close()
f = assert(io.open(name))
local all = f:read("*a")
f:close()
assert(all:sub(-9) == "\nappended" and #all == 32, "append")

-- binary data round trip
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local bin = table.concat(bytes)
f = assert(io.open(name, "wb"))
f:write(bin)
f:close()
f = assert(io.open(name, "rb"))
assert(f:read("*a") == bin, "binary round trip")
f:close()

-- io.output / io.input redirection
local out2 = os.tmpname()
local old_out = io.output()
io.output(out2)
io.write("via io.write ", 1, "\n")
io.output():close()
io.output(old_out)
io.input(out2)
assert(io.read("*l") == "via io.write 1", "io.input/io.read")
io.input():close()
io.input(io.stdin)

-- errors return nil, message, code
local nf, msg, code = io.open("/nonexistent/dir/file", "r")
assert(nf == nil and msg == "/nonexistent/dir/file: No such file or directory" and code == 2, "open failure: " .. tostring(msg))
local bm, bmsg = io.open(name, "z")
assert(bm == nil and bmsg == name .. ": Invalid argument", "LuaJIT passes an invalid mode to fopen and returns its error: " .. tostring(bmsg))
ok, err = pcall(io.lines, "/nonexistent/dir/file")
assert(not ok and err:find("No such file or directory", 1, true), "io.lines on a missing file raises")

-- rename and remove
local name2 = name .. ".renamed"
assert(os.rename(name, name2) == true, "rename")
assert(io.open(name) == nil, "old name gone")
assert(os.remove(name2) == true, "remove")
local r1, r2 = os.remove(name2)
assert(r1 == nil and r2:find("No such file or directory", 1, true), "remove a missing file")
os.remove(out2)

-- standard handles
assert(io.type(io.stdout) == "file" and io.type(io.stderr) == "file" and io.type(io.stdin) == "file", "std handles")
assert(io.type(42) == nil, "io.type of a non-file")
assert(tostring(io.stdout):match("^file %(0x%x+%)$"), "tostring of a file")
assert(io.stdout:write("") == io.stdout or io.stdout:write("") == true, "writing nothing to stdout")
assert(io.stderr:write("") ~= nil, "stderr write")
print("ok")
