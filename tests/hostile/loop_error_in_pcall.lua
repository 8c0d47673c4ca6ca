-- Errors caught forever: the budget counts the calls.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
while true do pcall(error, "again") end
