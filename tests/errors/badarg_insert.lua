table.insert(nil, 1)
