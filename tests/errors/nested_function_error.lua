local function outer()
  local function inner()
    local t = nil
    return t[1]
  end
  inner()
end
outer()
