local cfg = {port = "http"}
local p = cfg.port + 1
