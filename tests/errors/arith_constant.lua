local y = "abc" + 1
