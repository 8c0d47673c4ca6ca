-- pcall cannot catch the stop, even in a loop of pcalls.
-- expect: timeout
-- flags: --sandbox --timeout 1s
while true do
  pcall(function() while true do end end)
end
