-- A goto loop.
-- expect: fuel
-- flags: --sandbox --fuel 1000000
::top:: goto top
