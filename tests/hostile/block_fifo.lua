-- Reading a FIFO inside a grant that no one ever writes: the open itself waits for a
-- writer. The deadline must stop it whatever the script is blocked on.
-- expect: timeout
-- flags: --sandbox --timeout 1s --allow-read .
-- setup: fifo tests/hostile/data/fifo
local f = io.open("tests/hostile/data/fifo")
print(f:read("*a"))
