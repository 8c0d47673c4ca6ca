string.nothing("x")
