if "10" < 5 then end
