-- buffer.encode of a graph that shares one table everywhere: the encoding is a
-- tree, exponentially larger than the graph. The output is checked as it grows.
-- expect: memory
-- flags: --sandbox --memory 32M
local buffer = require("string.buffer")
local t = { string.rep("x", 1000) }
for i = 1, 40 do t = { t, t } end
local s = buffer.encode(t)
print(#s)
