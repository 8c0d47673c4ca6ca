-- An error object whose __tostring never returns: the instruction budget stops it
-- while the host turns the error into text, and the run ends as a fuel stop.
-- expect: fuel
-- flags: --sandbox --fuel 200000
error(setmetatable({}, { __tostring = function() while true do end end }))
