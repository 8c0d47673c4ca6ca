local t = {}
t.handler()
