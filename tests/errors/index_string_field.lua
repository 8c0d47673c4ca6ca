local s = "text"
s.y.z = 1
