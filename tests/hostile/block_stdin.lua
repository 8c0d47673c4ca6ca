-- The script arrives on a stdin that never closes (`moonbox --sandbox -`): reading it
-- to its end never ends. The deadline must stop it all the same.
-- expect: timeout
-- flags: --sandbox --timeout 1s
-- stdin: open
print("this never runs: the chunk is never complete")
