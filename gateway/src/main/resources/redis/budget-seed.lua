-- Starts a key's account with the spend read from the usage log, unless another instance did.
-- KEYS[1]: the account (see budget-reserve.lua). ARGV: dollars spent, ms until the account may go (0: never).
if redis.call('HSETNX', KEYS[1], 'spent', ARGV[1]) == 1 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('HGET', KEYS[1], 'spent')
