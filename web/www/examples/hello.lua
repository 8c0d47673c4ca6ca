-- Welcome to the moonbox playground: Lua 5.1 (LuaJIT dialect), compiled from
-- Rust to WebAssembly and running in a Web Worker in this page.
-- Press Run (or Ctrl+Enter). Pick more programs from the Examples menu.

print("Hello from " .. _VERSION .. " in the browser!")

local langs = { "Lua", "Rust", "WebAssembly" }
for i, name in ipairs(langs) do
  io.write(i, ". ", name, "\n")
end

-- LuaJIT extensions work too: bit ops, goto, hex floats, table.new ...
print(bit.tohex(bit.bxor(0xff00, 0x0ff0)), 0x1p4)
for i = 1, 3 do
  if i == 2 then goto continue end
  print("i = " .. i)
  ::continue::
end

-- The value of a final expression is shown below the output:
return 6 * 7
