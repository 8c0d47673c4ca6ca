-- No io library in a sandbox.
-- expect: error: attempt to index global 'io' (a nil value)
-- flags: --sandbox
local f = io.open("/etc/passwd")
print(f:read("*a"))
