-- The collector cannot be stopped.
-- expect: error: not allowed
-- flags: --sandbox
collectgarbage("stop")
