local n = 1
print(n.x)
