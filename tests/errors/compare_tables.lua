if {} < {} then end
