print(config.value)
