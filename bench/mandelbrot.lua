-- mandelbrot: the Mandelbrot set as a 1-bit bitmap (floating-point inner loop,
-- escape branches, bytes packed with arithmetic instead of bit operations).
local N = tonumber(arg and arg[1]) or 1300

local iter = 50
local limit2 = 4.0
local inside = 0      -- points in the set
local hash = 0        -- rolling hash over the packed bytes
local nbytes = 0

for y = 0, N - 1 do
  local ci = 2.0 * y / N - 1.0
  local byte, bits = 0, 0
  for x = 0, N - 1 do
    local cr = 2.0 * x / N - 1.5
    local zr, zi, zr2, zi2 = 0.0, 0.0, 0.0, 0.0
    local escaped = false
    for _ = 1, iter do
      zi = 2.0 * zr * zi + ci
      zr = zr2 - zi2 + cr
      zr2 = zr * zr
      zi2 = zi * zi
      if zr2 + zi2 > limit2 then escaped = true; break end
    end
    byte = byte * 2
    if not escaped then byte = byte + 1; inside = inside + 1 end
    bits = bits + 1
    if bits == 8 or x == N - 1 then
      while bits < 8 do byte = byte * 2; bits = bits + 1 end
      hash = (hash * 31 + byte) % 2147483647
      nbytes = nbytes + 1
      byte, bits = 0, 0
    end
  end
end

print(string.format("P4 %d x %d: %d bytes, %d points inside", N, N, nbytes, inside))
print(string.format("checksum: %d %d %d", nbytes, inside, hash))
