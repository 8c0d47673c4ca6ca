local n = 3x4
