error("something went wrong")
