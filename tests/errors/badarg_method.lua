local s = ("x"):rep({})
