-- fannkuch-redux: count pancake flips over all permutations of 1..n
-- (small integer arrays, indexing, swaps, permutation generation).
local n = tonumber(arg and arg[1]) or 9
local reps = tonumber(arg and arg[2]) or 5   -- n = 10 would take ~2.5 s on lua5.4

local function fannkuch(n)
  local perm, perm1, count = {}, {}, {}
  local maxflips, checksum, sign = 0, 0, 1
  for i = 1, n do perm1[i] = i end
  local r = n
  while true do
    while r ~= 1 do count[r] = r; r = r - 1 end
    for i = 1, n do perm[i] = perm1[i] end
    local flips = 0
    local k = perm[1]
    while k ~= 1 do
      -- reverse perm[1..k]
      local i, j = 1, k
      while i < j do
        perm[i], perm[j] = perm[j], perm[i]
        i = i + 1; j = j - 1
      end
      flips = flips + 1
      k = perm[1]
    end
    if flips > maxflips then maxflips = flips end
    checksum = checksum + sign * flips
    sign = -sign
    -- next permutation (the incremental rotation order of the benchmark)
    while true do
      if r == n then return checksum, maxflips end
      local p0 = perm1[1]
      for i = 1, r do perm1[i] = perm1[i + 1] end
      perm1[r + 1] = p0
      count[r + 1] = count[r + 1] - 1
      if count[r + 1] > 0 then break end
      r = r + 1
    end
  end
end

local checksum, maxflips = fannkuch(n)
for _ = 2, reps do
  local c, m = fannkuch(n)
  if c ~= checksum or m ~= maxflips then error("fannkuch: results differ between runs") end
end
print(string.format("%d\nPfannkuchen(%d) = %d", checksum, n, maxflips))
print(string.format("checksum: %d %d", checksum, maxflips))
