-- An xpcall handler that never returns.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
print(xpcall(error, function() repeat until false end))
