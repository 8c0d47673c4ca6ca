-- No package.loadlib.
-- expect: error: attempt to call field 'loadlib' (a nil value)
-- flags: --sandbox
package.loadlib("libc.so.6", "system")
