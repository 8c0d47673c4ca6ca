local function get() return nil end
get()()
