-- binary-trees: allocate and walk many short-lived binary trees plus one long-lived
-- tree (allocation rate, GC throughput, recursion). Peak RSS is reported from here.
local N = tonumber(arg and arg[1]) or 15

local function bottom_up(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { bottom_up(depth), bottom_up(depth) }
end

local function item_check(tree)
  if tree[1] then
    return 1 + item_check(tree[1]) + item_check(tree[2])
  end
  return 1
end

local mindepth = 4
local maxdepth = mindepth + 2
if maxdepth < N then maxdepth = N end

local total = 0
do
  local stretch = maxdepth + 1
  local c = item_check(bottom_up(stretch))
  total = total + c
  print(string.format("stretch tree of depth %d\t check: %d", stretch, c))
end

local long_lived = bottom_up(maxdepth)

for depth = mindepth, maxdepth, 2 do
  local iters = 2 ^ (maxdepth - depth + mindepth)
  local c = 0
  for _ = 1, iters do
    c = c + item_check(bottom_up(depth))
  end
  total = total + c
  print(string.format("%d\t trees of depth %d\t check: %d", iters, depth, c))
end

local lc = item_check(long_lived)
total = total + lc
print(string.format("long lived tree of depth %d\t check: %d", maxdepth, lc))
print(string.format("checksum: %d", total))
