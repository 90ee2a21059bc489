-- A concurrency slot of one key, held by every instance's requests in flight. KEYS[1]: zset of the
-- slots held (id -> when its lease ends, ms): a slot of an instance that died is freed when its
-- lease ends, since only live instances renew theirs (lease-renew.lua). ARGV: max, slot id, lease ms.
-- Returns 1 when the slot is taken, 0 when max are held.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
