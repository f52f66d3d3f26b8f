/**
 * The Lua scripts. Redis runs each one atomically, so whatever must not be split between
 * two instances (a seq and its message, a link and its use, a rate check and its count)
 * is one script.
 */

/**
 * Stores a message. KEYS: seq, log, client_msg_id key (all of the channel's slot).
 * ARGV: JSON before the seq, JSON after it, de-dup TTL (s), feed channel, "1" when the
 * message has a client_msg_id, PUBLISH or SPUBLISH.
 * Returns {0, seq} for a new message, {1, stored JSON} for a known client_msg_id.
 * Publishing from inside the script puts the feed in exactly seq order. No global key:
 * the script runs on whichever node owns the channel.
 */
export const APPEND = `
if ARGV[5] == '1' then
  local existing = redis.call('GET', KEYS[3])
  if existing then
    local stored = redis.call('ZRANGEBYSCORE', KEYS[2], existing, existing)
    if stored[1] then return {1, stored[1]} end
  end
end
local seq = redis.call('INCR', KEYS[1])
local body = ARGV[1] .. seq .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, body)
if ARGV[5] == '1' then redis.call('SET', KEYS[3], seq, 'EX', ARGV[3]) end
redis.call(ARGV[6], ARGV[4], 'm' .. seq .. ' ' .. body)
return {0, seq}
`;

/**
 * KEYS: presence. ARGV: connection id, entry. Returns HGETALL. (The channel goes into the
 * instance's set first, by its own command: that set lives in another slot.)
 */
export const JOIN = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
`;

/** KEYS: presence. ARGV: connection id. Returns HLEN. */
export const LEAVE = `
redis.call('HDEL', KEYS[1], ARGV[1])
return redis.call('HLEN', KEYS[1])
`;

/** KEYS: presence. ARGV: connection id, entry. Only updates an entry that still exists. */
export const RENAME = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`;

/**
 * The heartbeat. KEYS: alive, instances, epoch. ARGV: instance, TTL (ms), epoch candidate.
 * Returns {1 when the instance was (re-)added to the set, epoch}.
 */
export const HEARTBEAT = `
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
local added = redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[3], 'NX')
return {added, redis.call('GET', KEYS[3])}
`;

/**
 * Forgets a dead instance's connections in one channel. KEYS: presence. ARGV: instance.
 * Returns {remaining, removed connection ids...}.
 */
export const REAP_CHANNEL = `
local entries = redis.call('HGETALL', KEYS[1])
local removed = {}
for i = 1, #entries, 2 do
  local ok, entry = pcall(cjson.decode, entries[i + 1])
  if ok and entry['i'] == ARGV[1] then
    redis.call('HDEL', KEYS[1], entries[i])
    removed[#removed + 1] = entries[i]
  end
end
local result = {redis.call('HLEN', KEYS[1])}
for _, id in ipairs(removed) do result[#result + 1] = id end
return result
`;

/** KEYS: link. ARGV: email, expires_at, usable ("1"/"0"), when to forget it (ms). */
export const SAVE_LINK = `
redis.call('HSET', KEYS[1], 'email', ARGV[1], 'expires_at', ARGV[2], 'usable', ARGV[3])
return redis.call('PEXPIREAT', KEYS[1], ARGV[4])
`;

/** KEYS: link. Makes an existing link unusable. */
export const DISABLE_LINK = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'usable', '0') end
return 0
`;

/**
 * Uses a magic link. KEYS: link. Returns false when unknown, used or disabled, else
 * {email, expires_at}; marks it used in the same step.
 */
export const CONSUME_LINK = `
local link = redis.call('HMGET', KEYS[1], 'email', 'expires_at', 'usable')
if not link[1] or link[3] ~= '1' then return false end
if tonumber(link[2]) > tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'usable', '0') end
return {link[1], link[2]}
`;

/**
 * Sliding-window limits over several keys. KEYS: the rate keys. ARGV: now, window (ms),
 * a unique member, then each key's limit. Counts a hit on every key only when all are
 * under their limit; returns the longest wait in ms (0 = allowed).
 */
export const RATE_LIMIT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[3 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local until_free = window
    if oldest[2] then until_free = tonumber(oldest[2]) + window - now end
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return 0
`;

/**
 * Records an upload within the quota. KEYS: files, file usage (the user's slot). ARGV: id,
 * record JSON, size, quota. Returns 1 when added, 0 over the quota (nothing written).
 */
export const ADD_FILE = `
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[2], ARGV[3])
return 1
`;

/**
 * Marks files as referenced. KEYS: files. ARGV: the ids. Returns their records in order,
 * or false (marking nothing) when any is missing.
 */
export const CLAIM_FILES = `
local records = {}
for i, id in ipairs(ARGV) do
  local record = redis.call('HGET', KEYS[1], id)
  if not record then return false end
  records[i] = record
end
for _, id in ipairs(ARGV) do redis.call('HSET', KEYS[1], 'r:' .. id, '1') end
return records
`;

/**
 * Deletes a file nobody refers to. KEYS: files, file usage. ARGV: id. Returns the record
 * JSON when deleted, false when referenced or unknown.
 */
export const REMOVE_ORPHAN = `
if redis.call('HEXISTS', KEYS[1], 'r:' .. ARGV[1]) == 1 then return false end
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DECRBY', KEYS[2], cjson.decode(record)['size'])
return record
`;

/** KEYS: blob refs. ARGV: sha256. One reference less; returns how many remain. */
export const RELEASE_BLOB = `
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
`;

/**
 * Stores a push subscription unless the user holds ARGV[3] others. KEYS: the user's push
 * hash. ARGV: endpoint, record JSON, the most subscriptions. Returns 1 stored, 0 full.
 */
export const SAVE_PUSH = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Stores an access token unless the user holds the maximum of live ones; expired ones are
 * dropped on the way. KEYS: the user's tokens, token uses (one slot). ARGV: id, record
 * JSON, now (ms), the maximum. Returns 1 when stored, 0 at the limit. (The hash → id key
 * lives in another slot and is written after, by its own command.)
 */
export const CREATE_TOKEN = `
local all = redis.call('HGETALL', KEYS[1])
local now = tonumber(ARGV[3])
local live = 0
for i = 1, #all, 2 do
  local expires = cjson.decode(all[i + 1]).expiresAt
  if type(expires) == 'number' and expires <= now then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
  else
    live = live + 1
  end
end
if live >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** KEYS: the user's tokens, token uses. ARGV: id. Returns the deleted record JSON, or false. */
export const REVOKE_TOKEN = `
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return record
`;
