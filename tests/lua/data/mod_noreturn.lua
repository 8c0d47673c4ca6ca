-- Loaded by load.lua through require; returns nothing on purpose.
mod_noreturn_ran = true
