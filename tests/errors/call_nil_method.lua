local obj = {}
obj:method(1)
