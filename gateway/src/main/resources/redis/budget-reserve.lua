-- Reserves the most a request can cost from a key's budget, shared by every instance.
-- KEYS[1]: the key's account in its current period (hash: 'spent' -> dollars settled);
-- KEYS[2]: its reservations (zset id -> when the lease ends, ms; see lease-renew.lua);
-- KEYS[3]: what each holds (hash id -> dollars). ARGV: budget, most, reservation id, lease ms.
-- Returns {'seed'} when the account is unknown (the caller reads the usage log into it and asks
-- again), else {'ok' or 'refused', spent, reserved}; dollars as text (numbers come back as integers).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('HDEL', KEYS[3], id) -- held by an instance that died
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local spent = redis.call('HGET', KEYS[1], 'spent')
if not spent then return {'seed'} end
spent = tonumber(spent)
local reserved = 0
for _, v in ipairs(redis.call('HVALS', KEYS[3])) do reserved = reserved + tonumber(v) end
local budget, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local committed = spent + reserved
if committed < budget and committed + most <= budget then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
  return {'ok', tostring(spent), tostring(reserved)}
end
return {'refused', tostring(spent), tostring(reserved)}
