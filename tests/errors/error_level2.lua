local function check(v)
  if not v then error("check failed", 2) end
end
check(false)
