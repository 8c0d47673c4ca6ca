-- Lua string patterns: find, match, gmatch, gsub and captures.

local text = "The quick brown fox jumps over the lazy dog on 2024-03-15 at 09:41."

-- find returns positions (and captures)
print(text:find("quick"))
print(text:find("(%d+)-(%d+)-(%d+)"))

-- match returns captures
local y, m, d = text:match("(%d%d%d%d)-(%d%d)-(%d%d)")
print("date:", y, m, d)
print("time:", text:match("(%d+):(%d+)"))

-- gmatch iterates; %a+ is a word
local words = {}
for w in text:gmatch("%a+") do words[#words + 1] = w:lower() end
print(#words .. " words, longest first:")
table.sort(words, function(a, b) return #a > #b or (#a == #b and a < b) end)
print(table.concat(words, " ", 1, 5))

-- gsub with a string, a table and a function
print(("hello world"):gsub("o", "0"))
print(("$name is $age"):gsub("%$(%w+)", { name = "Ada", age = 36 }))
print(("1 2 3 4"):gsub("%d", function(n) return n * n end))

-- anchors, frontier (%f) and balanced matches (%b)
print(("  trim me  "):match("^%s*(.-)%s*$") .. "|")
print(("THE (quick) fox"):gsub("%f[%a]%a+", function(w) return w:sub(1, 1):upper() .. w:sub(2):lower() end))
print(("f(a(b)c) g(d)"):match("%b()"))

-- key=value parsing
local cfg = {}
for k, v in ("width=640, height=480, title=moon"):gmatch("(%w+)=(%w+)") do cfg[k] = v end
print(cfg.width * cfg.height, cfg.title)
