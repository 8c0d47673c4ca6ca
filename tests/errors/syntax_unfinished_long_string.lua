local s = [[abc

