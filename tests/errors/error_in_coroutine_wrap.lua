local gen = coroutine.wrap(function() error("inside coroutine") end)
gen()
