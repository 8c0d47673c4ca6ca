local cb
local function run() cb() end
run()
