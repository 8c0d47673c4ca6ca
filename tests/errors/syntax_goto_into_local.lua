do
  goto skip
  local x = 1
  ::skip::
  print(x)
end
