local y = x + 1
