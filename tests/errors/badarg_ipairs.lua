for i, v in ipairs(nil) do end
