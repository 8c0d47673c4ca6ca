-- goto and labels (LuaJIT 2.1 rules).

-- continue idiom
local odds = {}
for i = 1, 10 do
  if i % 2 == 0 then goto continue end
  odds[#odds + 1] = i
  ::continue::
end
assert(table.concat(odds, ",") == "1,3,5,7,9", "continue idiom")

-- continue in while and repeat
local i, n = 0, 0
while i < 10 do
  i = i + 1
  if i % 3 ~= 0 then goto continue end
  n = n + 1
  ::continue::
end
assert(n == 3, "continue in while")

i, n = 0, 0
repeat
  i = i + 1
  if i == 2 then goto skip end
  n = n + i
  ::skip::
until i >= 4
assert(n == 8, "goto in repeat to a label before until")

-- backward goto as a loop
local k = 0
::top::
k = k + 1
if k < 5 then goto top end
assert(k == 5, "backward goto loop")

-- breaking out of nested loops
local found
for a = 1, 10 do
  for b = 1, 10 do
    if a * b == 42 then found = a .. "x" .. b; goto done end
  end
end
::done::
assert(found == "6x7", "goto out of nested loops")

-- fresh closure per backward-goto iteration (the local is re-declared each time)
local fns = {}
do
  local j = 1
  ::again::
  local captured = j
  fns[j] = function() return captured end
  j = j + 1
  if j <= 3 then goto again end
end
assert(fns[1]() == 1 and fns[2]() == 2 and fns[3]() == 3, "locals in a goto loop are fresh")

-- a label at the end of a block is outside the scope of the block's locals
do
  goto finish
  local unused = 1
  ::finish::
end

-- continue with locals declared after the goto (label at end of loop body)
local total = 0
for j = 1, 5 do
  if j == 3 then goto cont end
  local sq = j * j
  total = total + sq
  ::cont::
end
assert(total == 1 + 4 + 16 + 25, "continue skipping a local declaration")

-- nested functions have their own labels
local function inner()
  goto x
  do return "not reached" end
  ::x::
  return "inner label"
end
assert(inner() == "inner label", "label in a nested function")

-- same label name in nested blocks is allowed by LuaJIT
assert(loadstring("::a:: do ::a:: end"), "nested duplicate label allowed")
assert(loadstring("do ::a:: end ::a::"), "sibling blocks may reuse a label")

-- goto jumping forward into an enclosing block's label
local r = {}
do
  do
    r[#r + 1] = "in"
    goto out
  end
  r[#r + 1] = "skipped"
  ::out::
end
r[#r + 1] = "after"
assert(table.concat(r, ",") == "in,after", "goto to an enclosing block")

-- goto and upvalues closing: closures created before a backward jump keep their value
local saved = {}
do
  local idx = 0
  ::loop::
  idx = idx + 1
  local v = idx * 10
  saved[idx] = function() v = v + 1; return v end
  if idx < 3 then goto loop end
end
assert(saved[1]() == 11 and saved[1]() == 12 and saved[2]() == 21 and saved[3]() == 31, "each iteration's v is separate")

-- goto is not reserved as a name in LuaJIT when it is not followed by a name
assert(loadstring("goto = 1"), "goto as a variable")
assert(loadstring("local goto = 1 return goto"), "local named goto")

-- errors
local function syntax_error(src, pat)
  local f, e = loadstring(src)
  assert(not f, "expected error: " .. src)
  assert(e:find(pat, 1, true), src .. " -> " .. e)
end
syntax_error("goto nowhere", "undefined label 'nowhere'")
syntax_error("::a:: ::a::", "duplicate label 'a'")
syntax_error("goto l; do ::l:: end", "undefined label 'l'")
syntax_error("local function f() goto l end ::l::", "undefined label 'l'")
syntax_error("do goto l; local x = 1; ::l:: print(x) end", "<goto l> jumps into the scope of local 'x'")
syntax_error("repeat goto c; local y = 1 ::c:: until y", "<goto c> jumps into the scope of local 'y'")
syntax_error("do goto l end local z ::l:: ;", "jumps into the scope of local 'z'")
assert(loadstring("do goto l end local z ::l:: ::m::"), "trailing labels are still at the end of the block")

-- many gotos in a hot loop
local cnt = 0
for q = 1, 100000 do
  if q % 2 == 0 then goto c1 end
  if q % 3 == 0 then goto c1 end
  cnt = cnt + 1
  ::c1::
end
assert(cnt == 33333, "hot loop with gotos: " .. cnt)
print("ok")
