import { createHash } from 'node:crypto';

/**
 * @internal The Lua scripts of the Redis store. Each store operation is one script, so Redis runs
 * it whole and alone: no other command, from any process, runs between its reads and its writes
 * (that is what makes `rotate` safe against two concurrent refreshes), and a lost connection can
 * never leave half of it written.
 *
 * Keys, under the store's prefix P (default `jwtguard:`):
 * - `P s:<sid>`      hash   session: claims, createdAt, expiresAt, current (token hash), previous, sub
 * - `P t:<hash>`     hash   refresh token: sid, issuedAt, usedAt, child          TTL: session's expiresAt
 * - `P a:<hash>`     string kept rotation answer                                 TTL: reuseIntervalMs
 * - `P u:<sub>`      zset   the subject's sids, scored by expiresAt              TTL: its last expiresAt
 * - `P rs`           zset   revoked sessions: sid scored by until                TTL: its last until
 * - `P rj` / `P rb`  zset / hash  revoked subjects: sub scored by until / sub → before   TTL: the last until
 * - `P events`       pub/sub channel of revocations (JSON)
 *
 * Every TTL is relative, computed from the caller's `now` (so the Redis server's clock plays no
 * part), and every sorted set is trimmed of past scores whenever it is written.
 *
 * Numbers travel as decimal strings: Lua's tostring would turn a millisecond time into
 * "1.7e+12", so `int` formats them. `ARGV[1]` is always the prefix; keys derived from stored
 * values (a token's session, a session's current token) are built inside the scripts, which is
 * why the store needs a single Redis server (or primary), not a Redis Cluster.
 */
const PRELUDE = `
local P = ARGV[1]
local function int(n) return string.format('%d', n) end

-- A sorted set of times lives as long as its last entry.
local function expireWithLast(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIRE', key, int(tonumber(last[2]) - now)) end
end

-- Deletes a session, its current token and its kept answer, and unindexes it. The used tokens'
-- records stay until their TTL, but point to no session: they are 'invalid' from now on.
-- Returns whether the session was live (existed and not past expiresAt).
local function forget(sid, now)
  local sk = P .. 's:' .. sid
  local s = redis.call('HMGET', sk, 'sub', 'current', 'previous', 'expiresAt')
  if not s[2] then return false end
  redis.call('DEL', sk, P .. 't:' .. s[2])
  if s[3] then redis.call('DEL', P .. 'a:' .. s[3]) end
  if s[1] then redis.call('ZREM', P .. 'u:' .. s[1], sid) end
  return tonumber(s[4]) > now
end

-- Records "sid revoked until untilMs" (the later of two untils wins) and publishes it.
local function revokeSession(sid, now, untilMs)
  if untilMs <= now then return end
  local k = P .. 'rs'
  redis.call('ZREMRANGEBYSCORE', k, '-inf', int(now))
  local old = tonumber(redis.call('ZSCORE', k, sid))
  if old and old > untilMs then untilMs = old end
  redis.call('ZADD', k, int(untilMs), sid)
  expireWithLast(k, now)
  redis.call('PUBLISH', P .. 'events', '{"type":"session","sid":' .. cjson.encode(sid) .. ',"until":' .. int(untilMs) .. '}')
end

local function endSession(sid, now, untilMs)
  local live = forget(sid, now)
  revokeSession(sid, now, untilMs)
  return live
end
`;

/** ARGV: P, sid, hash, claims, createdAt, expiresAt[, sub]. Returns 'OK'. */
const CREATE = `
local sid, hash, claims, createdAt, expiresAt, sub = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local now = tonumber(createdAt)
local sk, tk = P .. 's:' .. sid, P .. 't:' .. hash
if redis.call('EXISTS', sk, tk) > 0 then
  return redis.error_reply('jwtguard: createSession needs a new sid and a new refresh token hash.')
end
local ttl = int(tonumber(expiresAt) - now)
redis.call('HSET', sk, 'claims', claims, 'createdAt', createdAt, 'expiresAt', expiresAt, 'current', hash)
if sub then redis.call('HSET', sk, 'sub', sub) end
redis.call('PEXPIRE', sk, ttl)
redis.call('HSET', tk, 'sid', sid, 'issuedAt', createdAt)
redis.call('PEXPIRE', tk, ttl)
if sub then
  local uk = P .. 'u:' .. sub
  redis.call('ZREMRANGEBYSCORE', uk, '-inf', createdAt)
  redis.call('ZADD', uk, expiresAt, sid)
  expireWithLast(uk, now)
end
return 'OK'
`;

/** ARGV: P, hash, now. Returns nil, or {sid, issuedAt, usedAt, child, sub, claims, createdAt, expiresAt}. */
const FIND = `
local t = redis.call('HMGET', P .. 't:' .. ARGV[2], 'sid', 'issuedAt', 'usedAt', 'child')
if not t[1] then return false end
local s = redis.call('HMGET', P .. 's:' .. t[1], 'sub', 'claims', 'createdAt', 'expiresAt')
if not s[4] or tonumber(s[4]) <= tonumber(ARGV[3]) then return false end
return {t[1], t[2], t[3], t[4], s[1], s[2], s[3], s[4]}
`;

/**
 * ARGV: P, hash, newHash, now, idleTimeoutMs ('' for none), reuseIntervalMs, answer, revokedUntil.
 * Returns {'invalid'} | {'rotated', sid, sub, claims, createdAt, expiresAt} | {'grace', answer} | {'reused', sid, sub}.
 * The rules are TokenStore.rotate's, in the same order.
 */
const ROTATE = `
local hash, newHash, nowText, answer = ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local now, idle, reuse, revokedUntil = tonumber(nowText), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[8])
local tk = P .. 't:' .. hash
local t = redis.call('HMGET', tk, 'sid', 'issuedAt', 'usedAt', 'child')
local sid = t[1]
if not sid then return {'invalid'} end
local sk = P .. 's:' .. sid
local s = redis.call('HMGET', sk, 'sub', 'claims', 'createdAt', 'expiresAt', 'current', 'previous')
local current = s[5]
if not current or tonumber(s[4]) <= now then return {'invalid'} end
if not t[3] then
  if current ~= hash then return {'invalid'} end
  if idle and now - tonumber(t[2]) > idle then
    endSession(sid, now, revokedUntil)
    return {'invalid'}
  end
  local ttl = int(tonumber(s[4]) - now)
  redis.call('HSET', tk, 'usedAt', nowText, 'child', newHash)
  local nk = P .. 't:' .. newHash
  redis.call('HSET', nk, 'sid', sid, 'issuedAt', nowText)
  redis.call('PEXPIRE', nk, ttl)
  redis.call('HSET', sk, 'current', newHash, 'previous', hash)
  -- The grandparent can no longer get the grace: its answer goes.
  if s[6] then redis.call('DEL', P .. 'a:' .. s[6]) end
  if reuse > 0 then redis.call('SET', P .. 'a:' .. hash, answer, 'PX', int(reuse)) end
  return {'rotated', sid, s[1], s[2], s[3], s[4]}
end
-- The same rotation again (a command resent after a lost connection): already done.
if t[4] == newHash and current == newHash then return {'rotated', sid, s[1], s[2], s[3], s[4]} end
if t[4] == current and reuse > 0 and now - tonumber(t[3]) <= reuse then
  local kept = redis.call('GET', P .. 'a:' .. hash)
  if kept then return {'grace', kept} end
end
endSession(sid, now, revokedUntil)
return {'reused', sid, s[1]}
`;

/** ARGV: P, sid, now, revokedUntil. Returns 1 when a live session was ended, else 0. */
const END = `
if endSession(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])) then return 1 end
return 0
`;

/** ARGV: P, sub, now, revokedUntil. Returns the number of live sessions ended. */
const REVOKE_SUBJECT = `
local sub, nowText = ARGV[2], ARGV[3]
local now, untilMs = tonumber(nowText), tonumber(ARGV[4])
local uk = P .. 'u:' .. sub
local ended = {}
-- Each session ends as at logout, its own revocation included: an access token minted in the
-- very second of the call (iat has 1 s resolution) is still refused, by its sid.
for _, sid in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
  if endSession(sid, now, untilMs) then ended[#ended + 1] = sid end
end
redis.call('DEL', uk)
if untilMs > now then
  local zk, hk = P .. 'rj', P .. 'rb'
  for _, gone in ipairs(redis.call('ZRANGEBYSCORE', zk, '-inf', nowText)) do redis.call('HDEL', hk, gone) end
  redis.call('ZREMRANGEBYSCORE', zk, '-inf', nowText)
  local before = now
  local oldUntil, oldBefore = tonumber(redis.call('ZSCORE', zk, sub)), tonumber(redis.call('HGET', hk, sub))
  if oldUntil and oldUntil > untilMs then untilMs = oldUntil end
  if oldBefore and oldBefore > before then before = oldBefore end
  redis.call('ZADD', zk, int(untilMs), sub)
  redis.call('HSET', hk, sub, int(before))
  expireWithLast(zk, now)
  redis.call('PEXPIRE', hk, int(redis.call('PTTL', zk)))
  redis.call('PUBLISH', P .. 'events', '{"type":"subject","sub":' .. cjson.encode(sub) .. ',"before":' .. int(before) .. ',"until":' .. int(untilMs) .. '}')
end
return ended
`;

/** ARGV: P, now. Returns {sessions (sid, until, ...), subjects (sub, until, ...), befores (one per subject)}. */
const REVOCATIONS = `
local from = '(' .. ARGV[2]
local sessions = redis.call('ZRANGEBYSCORE', P .. 'rs', from, '+inf', 'WITHSCORES')
local subjects = redis.call('ZRANGEBYSCORE', P .. 'rj', from, '+inf', 'WITHSCORES')
local befores = {}
for i = 1, #subjects, 2 do befores[#befores + 1] = redis.call('HGET', P .. 'rb', subjects[i]) or '0' end
return {sessions, subjects, befores}
`;

/** @internal A script's text and its SHA-1 (for EVALSHA). */
export interface Script {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, body: string): Script {
  const source = PRELUDE + body;
  return Object.freeze({ name, source, sha: createHash('sha1').update(source).digest('hex') });
}

/** @internal */
export const SCRIPTS = Object.freeze({
  create: script('createSession', CREATE),
  find: script('findRefresh', FIND),
  rotate: script('rotate', ROTATE),
  end: script('endSession', END),
  revokeSubject: script('revokeSubject', REVOKE_SUBJECT),
  revocations: script('revocations', REVOCATIONS),
});
