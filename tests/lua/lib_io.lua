-- The io library in detail, as LuaJIT 2.1 (without 5.2 compatibility) behaves on
-- Linux/glibc: formats, buffering and seeking on one handle, lines, popen, the
-- default files, and the exact error results.

local SRC = debug.getinfo(1, "S").short_src
-- The message of the error `f` raises, and `msg` as raised from line `line` of this file.
local function E(f)
  local ok, e = pcall(f)
  assert(not ok, "an error was expected")
  return e
end
local function at(line, msg) return SRC .. ":" .. line .. ": " .. msg end
local function here() return debug.getinfo(2, "l").currentline end

local name = os.tmpname()
local function put(s) local f = assert(io.open(name, "wb")) assert(f:write(s) == true) assert(f:close() == true) end
local function get() local f = assert(io.open(name, "rb")) local s = f:read("*a") f:close() return s end

-- Standard handles.
assert(io.type(io.stdin) == "file" and io.type(io.stdout) == "file" and io.type(io.stderr) == "file", "std handles")
assert(io.type(42) == nil and io.type({}) == nil and io.type(nil) == nil, "io.type of non-files")
assert(E(function() local r = io.type() return r end) == at(here(), "bad argument #1 to 'type' (value expected)"), "io.type()")
assert(tostring(io.stdout) ~= "file (closed)" and type(tostring(io.stdout)) == "string", "tostring of an open file")
local r1, r2, r3 = io.stdout:close()
assert(r1 == nil and r2 == "cannot close standard file" and r3 == nil, "standard files cannot be closed")
assert(select("#", io.stderr:close()) == 2, "close of a std file: two results")
assert(io.write() == true and io.stdout:write() == true, "LuaJIT 2.1: write returns true, not the file")
assert(getmetatable(io.stdout).__index == getmetatable(io.stdout), "the file metatable is its own __index")
assert(io.stdout.write == io.stderr.write and io.stdout.close ~= nil, "shared methods")

-- Opening: errors are nil, "name: strerror", errno.
local f, msg, code = io.open("/nonexistent/dir/file")
assert(f == nil and msg == "/nonexistent/dir/file: No such file or directory" and code == 2, "missing file: " .. tostring(msg))
f, msg, code = io.open(name, "x")
assert(f == nil and msg == name .. ": Invalid argument" and code == 22, "invalid mode: " .. tostring(msg))
f, msg, code = io.open(name, "")
assert(f == nil and msg == name .. ": Invalid argument" and code == 22, "empty mode")
f = assert(io.open(name, "rw"), "glibc ignores unknown mode letters after the first") f:close()
f = assert(io.open(name, "r+b")) f:close()
f = assert(io.open(name, "wb+")) f:close()
assert(E(function() local r = io.open() return r end) == at(here(), "bad argument #1 to 'open' (string expected, got no value)"), "io.open()")
assert(E(function() local r = io.open(name, {}) return r end) == at(here(), "bad argument #2 to 'open' (string expected, got table)"), "bad mode type")
f, msg = io.open(name, "wx")
assert(f == nil and msg == name .. ": File exists", "x: exclusive create")

-- Writing: strings and numbers (formatted as tostring does); anything else is an error.
f = assert(io.open(name, "w"))
assert(f:write("a", 1, " ", 2.5, " ", 1e100, " ", -1/0, "\n") == true, "write returns true")
assert(E(function() local r = f:write("x", {}) return r end) == at(here(), "bad argument #2 to 'write' (string expected, got table)"), "write of a table")
f:close()
assert(get() == "a1 2.5 1e+100 -inf\nx", "numbers written like tostring (and args before a bad one written)")

-- Reading formats.
put("line1\nline2\n42 3.5e1\n\nlast")
f = assert(io.open(name))
assert(f:read() == "line1", "default format is a line")
assert(f:read("*L") == "line2\n", "*L keeps the newline")
local a, b = f:read("*n", "n")
assert(a == 42 and b == 35, "*n and n")
assert(f:read("l") == "", "rest of the number line")
assert(f:read("*l") == "", "empty line")
assert(f:read(2) == "la" and f:read(0) == "", "counts; read(0) before EOF is ''")
assert(f:read("*a") == "st", "*a")
assert(f:read("*a") == "" and f:read("*l") == nil and f:read(0) == nil and f:read(1) == nil and f:read("*n") == nil, "at EOF")
f:close()

put("1 2 x 4")
f = assert(io.open(name))
a, b, code, msg = f:read("*n", "*n", "*n", "*n")
assert(a == 1 and b == 2 and code == nil and msg == nil, "reading stops at the first failing format")
assert(f:read("*a") == "x 4", "a failed *n consumes only the blanks")
f:close()
f = assert(io.open(name))
a, b, code, msg = f:read(1, 0, "*l", 3)
assert(a == "1" and b == "" and code == " 2 x 4" and msg == nil, "several formats: " .. tostring(code))
f:close()
f = assert(io.open(name))
assert(E(function() local r = f:read("*x") return r end) == at(here(), "bad argument #1 to 'read' (invalid format)"), "bad format")
assert(E(function() local r = f:read({}) return r end) == at(here(), "bad argument #1 to 'read' (invalid option)"), "bad option")
assert(E(function() local r = io.read("x") return r end) == at(here(), "bad argument #1 to 'read' (invalid format)"), "io.read counts from 1")
f:close()

-- *n follows glibc's fscanf("%lf"): the value, and what is left in the file.
local numbers = {
  {"12 rest", 12, " rest"}, {"  -3.5e2x", -350, "x"}, {"0x1p4 z", 16, " z"}, {"0x10", 16, ""},
  {"abc", nil, "abc"}, {"1e", 1, ""}, {"1e+ z", 1, " z"}, {"- 5", nil, " 5"}, {".5", 0.5, ""},
  {".", nil, ""}, {"inf", 1/0, ""}, {"-inf", -1/0, ""}, {"infinity!", 1/0, "!"}, {"infx", 1/0, "x"},
  {"infin x", nil, "x"}, {"0x", nil, ""}, {"0xg", nil, "g"}, {"0x.", 0, ""}, {"0x.p1", 0, "p1"},
  {"1.5.6", 1.5, ".6"}, {"+7", 7, ""}, {"1e5e", 100000, "e"}, {"\n\n 42\n", 42, "\n"}, {"", nil, ""},
  {"   ", nil, ""}, {"0X1P-2", 0.25, ""}, {"1..2", 1, ".2"}, {"00012", 12, ""}, {"3,5", 3, ",5"},
  {"--1", nil, "-1"}, {"0x-1", nil, "-1"}, {"1ee5", 1, "e5"}, {".e5", nil, "e5"}, {"e5", nil, "e5"},
  {"00x1", 0, "x1"}, {"0x1.8", 1.5, ""}, {"9e999", 1/0, ""}, {"12345678901234567890123", 12345678901234567890123, ""},
  {"0x1p-1074", 2^-1074, ""}, {"0.1", 0.1, ""}, {"\t\v\f\r 8", 8, ""}, {"1\0002", 1, "\0002"},
}
for i, c in ipairs(numbers) do
  put(c[1])
  f = assert(io.open(name, "rb"))
  local n = f:read("*n")
  local rest = f:read("*a")
  f:close()
  assert(n == c[2] and rest == c[3], "*n case " .. i .. ": got " .. tostring(n) .. " rest " .. tostring(rest))
end
put("nan(1)")
f = assert(io.open(name)) a = f:read("*n") assert(a ~= a and f:read("*a") == "(1)", "nan") f:close()

-- Lines.
put("a\nb\r\n\nlast")
local got = {}
for l in io.lines(name) do got[#got + 1] = "[" .. l .. "]" end
assert(table.concat(got) == "[a][b\r][][last]", "io.lines")
got = {}
for l in io.lines(name, "*L") do got[#got + 1] = l end
assert(table.concat(got, "|") == "a\n|b\r\n|\n|last", "io.lines with *L")
got = {}
for x, y in io.lines(name, 1, 2) do got[#got + 1] = x .. "," .. tostring(y) end
assert(table.concat(got, "|") == "a,\nb|\r,\n\n|l,as|t,nil", "io.lines with two formats")
local it = io.lines(name)
while it() do end
assert(E(function() local r = it() return r end) == at(here(), "attempt to use a closed file"), "io.lines closes the file at EOF")
f = assert(io.open(name))
local n = 0
for _ in f:lines() do n = n + 1 end
assert(n == 4 and io.type(f) == "file", "file:lines does not close")
f:close()
local ok, e = pcall(io.lines, "/nonexistent/dir/file")
assert(not ok, "io.lines on a missing file raises")
it = io.lines(name, "*x") -- formats are checked when reading
ok, e = pcall(it)
assert(not ok and e ~= nil, "bad format in lines")

-- Seeking and mixing reads and writes on one handle.
put("0123456789")
f = assert(io.open(name, "r+"))
assert(f:seek() == 0 and f:seek("end") == 10 and f:seek("set", 2) == 2, "seek")
assert(f:read(2) == "23" and f:seek("cur") == 4 and f:seek("cur", -1) == 3, "seek cur after buffered reads")
assert(f:write("X") == true and f:seek() == 4, "write after read")
assert(f:read(1) == "4", "read after write")
a, msg, code = f:seek("set", -1)
assert(a == nil and msg == "Invalid argument" and code == 22, "negative position")
assert(E(function() local r = f:seek("foo") return r end) == at(here(), "bad argument #1 to 'seek' (invalid option 'foo')"), "seek option")
assert(E(function() local r = f:seek("set", "1") return r end) == at(here(), "bad argument #2 to 'seek' (number expected, got string)"), "offsets are not coerced")
assert(f:seek("set", 1.9) == 1, "offsets are truncated")
f:close()
assert(get() == "012X456789", "r+ result")
f = assert(io.open(name, "w+"))
f:write("abc") f:seek("set") assert(f:read(2) == "ab", "w+ reads back") f:write("Z")
f:seek("set") assert(f:read("*a") == "abZ", "w+ overwrite") f:close()
f = assert(io.open(name, "a+"))
f:write("END") f:seek("set") assert(f:read("*a") == "abZEND", "a+ appends and reads from the start") f:close()
f = assert(io.open(name, "a")) f:write("!") f:close()
assert(get() == "abZEND!", "append")

-- Reading a write-only handle and writing a read-only one fail as C stdio does.
f = assert(io.open(name, "w"))
a, msg, code = f:read(1)
assert(a == nil and msg == "Bad file descriptor" and code == 9, "read on a write-only file")
f:close()
f = assert(io.open(name, "r"))
a, msg, code = f:write("x")
assert(a == nil and msg == "Bad file descriptor" and code == 9, "write on a read-only file")
f:close()

-- Buffering modes.
f = assert(io.open(name, "w"))
assert(f:setvbuf("no") == true and f:setvbuf("full", 1024) == true and f:setvbuf("line") == true, "setvbuf")
assert(E(function() local r = f:setvbuf("bad") return r end) == at(here(), "bad argument #1 to 'setvbuf' (invalid option 'bad')"), "setvbuf option")
f:write("buffered") assert(f:flush() == true, "flush") assert(get() == "buffered", "flushed data is visible")
f:close()

-- Closed files.
f = assert(io.open(name))
assert(f:close() == true, "close")
assert(io.type(f) == "closed file" and tostring(f) == "file (closed)", "closed file")
assert(E(function() local r = f:read() return r end) == at(here(), "attempt to use a closed file"), "read a closed file")
assert(E(function() local r = f:close() return r end) == at(here(), "attempt to use a closed file"), "close twice")
assert(E(function() local r = f:lines() return r end) == at(here(), "attempt to use a closed file"), "lines of a closed file")
assert(E(function() local r = f.read(nil) return r end) == at(here(), "bad argument #1 to 'read' (FILE* expected, got nil)"), "not a file")

-- The default input and output.
assert(io.input() == io.stdin and io.output() == io.stdout, "defaults")
io.output(name)
assert(io.output() ~= io.stdout and io.write("via ", "io.write") == true, "io.output(name)")
assert(io.close() == true, "io.close() closes the default output")
assert(E(function() local r = io.write("x") return r end) == at(here(), "standard file is closed"), "closed default output")
io.output(io.stdout)
io.input(name)
assert(io.read("*a") == "via io.write", "io.input(name)")
io.input():close()
assert(E(function() local r = io.read() return r end) == at(here(), "standard file is closed"), "closed default input")
io.input(io.stdin)
f = assert(io.open(name))
assert(io.input(f) == f and io.read(3) == "via", "io.input(file)")
got = {}
for l in io.lines() do got[#got + 1] = l end
assert(got[1] == " io.write" and io.type(f) == "file", "io.lines() reads the default input and does not close it")
io.input(io.stdin)
f:close()
assert(E(function() local r = io.output(f) return r end) == at(here(), "attempt to use a closed file"), "io.output(closed file)")
ok, e = pcall(io.input, "/nonexistent/dir/file")
assert(not ok, "io.input(missing file) raises")

-- tmpfile, and files closed by the collector (which flushes them).
f = assert(io.tmpfile())
assert(io.type(f) == "file" and f:write("temp") == true and f:seek("set") == 0 and f:read("*a") == "temp", "tmpfile")
f:close()
do local g = assert(io.open(name, "w")) g:write("collected") end
collectgarbage() collectgarbage()
assert(get() == "collected", "__gc closes and flushes")

-- popen (where processes exist).
local p = io.popen("echo hi")
if p then
  assert(p:read("*l") == "hi" and p:read("*l") == nil, "popen read")
  assert(p:close() == true, "popen close")
  assert(io.popen("exit 3"):close() == true, "LuaJIT 2.1: close of a pipe returns true whatever the status")
  p = assert(io.popen("cat > " .. name, "w"))
  assert(p:write("piped") == true and p:close() == true, "popen write")
  assert(get() == "piped", "popen write reached the command")
  a, msg, code = io.popen("true", "rw")
  assert(a == nil and msg == "true: Invalid argument" and code == 22, "popen mode")
end

os.remove(name)
print("ok")
