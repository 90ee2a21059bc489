-- Extends the leases this instance holds in one zset (concurrency slots, budget reservations);
-- a lease that already ended and was freed stays freed. KEYS[1]: the zset; KEYS[2..]: keys that
-- live as long as it. ARGV: lease ms, then the ids.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + lease, ARGV[i])
end
for i = 1, #KEYS do
  redis.call('PEXPIRE', KEYS[i], lease)
end
return 1
