-- Loaded by load.lua: this file deliberately does not compile.
local x = = 1
