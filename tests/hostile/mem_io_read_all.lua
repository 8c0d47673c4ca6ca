-- Trusted mode: io.read("*a") of an endless file. The read is checked against the
-- memory limit as it grows, and stops with "not enough memory".
-- expect: memory
-- flags: --memory 32M --timeout 10s
local f = assert(io.open("/dev/zero", "rb"))
local s = f:read("*a")
print(#s)
