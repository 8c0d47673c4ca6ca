-- An error object whose __tostring never returns: the deadline stops it while the
-- host turns the error into text, and the run ends as a timeout.
-- expect: timeout
-- flags: --sandbox --timeout 1s
error(setmetatable({}, { __tostring = function() while true do end end }))
