local s = tostring()
