print("x" .. missing_global)
