-- Loaded by load.lua through require; not a test by itself.
local name = ...
mod_helper_loads = (mod_helper_loads or 0) + 1
return {name = name, answer = 42}
