-- setfenv cannot change a library function's environment.
-- expect: error: 'setfenv' cannot change environment of given object
-- flags: --sandbox
setfenv(print, {})
