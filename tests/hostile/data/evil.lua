-- Must never run in a sandbox: tests/hostile/sb_require_file.lua.
io.write("escaped\n")
os.exit(42)
