-- No loadfile.
-- expect: error: attempt to call global 'loadfile' (a nil value)
-- flags: --sandbox
loadfile("/etc/passwd")
