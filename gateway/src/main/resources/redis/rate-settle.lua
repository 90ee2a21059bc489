-- Replaces an admitted request's token estimate with what it used, if it is still in the window.
-- KEYS[1]: the key's tokens hash (see rate-acquire.lua). ARGV: request id, tokens used.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'total', tonumber(ARGV[2]) - tonumber(old))
return 1
