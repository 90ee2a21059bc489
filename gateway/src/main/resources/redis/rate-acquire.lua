-- Requests and tokens per minute of one key, as a sliding window shared by every instance.
-- KEYS[1]: zset of the admitted requests (id -> when admitted, ms); KEYS[2]: hash of their tokens
-- (id -> tokens, 'total' -> their sum). ARGV: rpm (-1: none), tpm (-1: none), estimated tokens,
-- window ms, request id, '1' to only look. The clock is Redis's, so instances need not agree on theirs.
-- Returns {outcome ('ok', 'requests', 'tokens' or 'peek'), requests, tokens, wait ms, reset ms}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, tpm, wanted, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - window)) do
  local tokens = redis.call('HGET', KEYS[2], id)
  if tokens then
    redis.call('HINCRBY', KEYS[2], 'total', -tonumber(tokens))
    redis.call('HDEL', KEYS[2], id)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local used = tonumber(redis.call('HGET', KEYS[2], 'total') or '0')
local function reset()
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if #newest == 0 then return 0 end
  return tonumber(newest[2]) + window - now
end
if ARGV[6] == '1' then
  return {'peek', count, used, 0, reset()}
end
if rpm >= 0 and count + 1 > rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = window -- rpm 0: a full window
  if #oldest > 0 then wait = tonumber(oldest[2]) + window - now end
  return {'requests', count, used, wait, reset()}
end
if tpm >= 0 and used + wanted > tpm then
  -- how long until enough old requests leave the window for the wanted tokens to fit
  local wait, left = window, used
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    left = left - tonumber(redis.call('HGET', KEYS[2], entries[i]) or '0')
    if left + wanted <= tpm then
      wait = tonumber(entries[i + 1]) + window - now
      break
    end
  end
  return {'tokens', count, used, wait, reset()}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], wanted)
redis.call('HINCRBY', KEYS[2], 'total', wanted)
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return {'ok', count + 1, used + wanted, 0, window}
