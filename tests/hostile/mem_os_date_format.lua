-- os.date with a format that expands every byte (%c is some 24 bytes): the result
-- is checked against the memory limit before it is built.
-- expect: memory
-- flags: --sandbox --memory 32M
local f = string.rep("%c", 4194304)
print(#os.date(f))
