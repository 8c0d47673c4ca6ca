local ok = false
assert(ok, "expected ok to be true")
