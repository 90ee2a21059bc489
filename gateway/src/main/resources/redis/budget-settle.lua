-- Replaces a reservation with what the request cost. KEYS: the account of the period the request
-- ended in, the reservations zset, the amounts hash (see budget-reserve.lua). ARGV: id, dollars.
-- An account that is gone (evicted, or Redis restarted) is seeded again from the usage log, which has the row.
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBYFLOAT', KEYS[1], 'spent', ARGV[2])
end
return 1
