-- Fill a 256 MiB limit with small objects (a table and a string per slot): the
-- allocator's per-object overhead is at its largest. The whole process must stay near
-- --memory (the suite checks peak RSS: 1.5 x the limit + 32 MiB in the Wasm sandbox).
-- expect: memory
-- flags: --sandbox --memory 256M
local t = {}
local i = 0
while true do
  i = i + 1
  t[i] = { i, "k" .. i }
end
