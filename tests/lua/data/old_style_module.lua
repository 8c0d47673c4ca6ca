-- Loaded by baselib.lua through require; a Lua 5.1 module() style module.
module("old_style_module", package.seeall)
function hello() return "hello from " .. _NAME end
