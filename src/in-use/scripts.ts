/**
 * The Lua behind InUseStore: one script replaces one pod's entries and keeps
 * every derived key (ref -> pods, ref -> namespaces, in-use refs, digest
 * counts, last-seen times) consistent in one atomic round trip. It diffs
 * against what Redis holds, so a replica writing a pod another replica
 * already wrote changes nothing (idempotent), and only changed fields are
 * written. Key names are built here from `base` exactly as keys.ts names them.
 *
 * ENTRY (one hash field per container, value tab-separated):
 *   ref \t digest \t node \t image \t list \t rewritten \t firstSeenMs
 * `digest` and `node` are '' when unknown, `rewritten` is '1' or ''. The
 * caller sends everything but firstSeenMs (the "body"); an entry whose body
 * is unchanged is left alone, and firstSeenMs survives a body change that
 * keeps the ref (status filling the digest, scheduling filling the node).
 */
export const ENTRY_SEPARATOR = '\t';

/** ARGV: base, nowMs, namespace, pod, then (container, body) pairs. Returns how many entries changed. */
export const SET_POD = `
local base, now, ns, pod = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local podKey = ns .. '/' .. pod
local hkey = base .. ':pod:' .. podKey

local function refAndDigest(body)
  local t1 = string.find(body, '\\t', 1, true)
  local t2 = string.find(body, '\\t', t1 + 1, true)
  return string.sub(body, 1, t1 - 1), string.sub(body, t1 + 1, t2 - 1)
end

local oldBody, oldFirst, oldRef = {}, {}, {}
local oldRefs, oldDigests = {}, {}
local old = redis.call('HGETALL', hkey)
for i = 1, #old, 2 do
  local v = old[i + 1]
  local cut = #v
  while cut > 0 and string.byte(v, cut) ~= 9 do cut = cut - 1 end
  local body = string.sub(v, 1, cut - 1)
  local ref, digest = refAndDigest(body)
  oldBody[old[i]] = body
  oldFirst[old[i]] = string.sub(v, cut + 1)
  oldRef[old[i]] = ref
  oldRefs[ref] = true
  if digest ~= '' then oldDigests[digest] = true end
end

local changed = 0
local newContainers, newRefs, newDigests = {}, {}, {}
local any = false
for i = 5, #ARGV, 2 do
  local c, body = ARGV[i], ARGV[i + 1]
  local ref, digest = refAndDigest(body)
  any = true
  newContainers[c] = true
  newRefs[ref] = true
  if digest ~= '' then newDigests[digest] = true end
  if oldBody[c] ~= body then
    local first = now
    if oldRef[c] == ref then first = oldFirst[c] end
    redis.call('HSET', hkey, c, body .. '\\t' .. first)
    changed = changed + 1
  end
end
for c in pairs(oldBody) do
  if not newContainers[c] then
    redis.call('HDEL', hkey, c)
    changed = changed + 1
  end
end
if changed == 0 then return 0 end

if any then
  if #old == 0 then redis.call('SADD', base .. ':pods', podKey) end
else
  redis.call('SREM', base .. ':pods', podKey)
end

for ref in pairs(newRefs) do
  if not oldRefs[ref] then
    local set = base .. ':ref:' .. ref
    redis.call('SADD', set, podKey)
    if redis.call('SCARD', set) == 1 then redis.call('SADD', base .. ':refs', ref) end
    redis.call('HINCRBY', base .. ':refns:' .. ref, ns, 1)
  end
end
for ref in pairs(oldRefs) do
  if not newRefs[ref] then
    local set = base .. ':ref:' .. ref
    redis.call('SREM', set, podKey)
    local nsKey = base .. ':refns:' .. ref
    if redis.call('HINCRBY', nsKey, ns, -1) <= 0 then redis.call('HDEL', nsKey, ns) end
    if redis.call('SCARD', set) == 0 then
      redis.call('SREM', base .. ':refs', ref)
      redis.call('HSET', base .. ':seen:ref', ref, now)
    end
  end
end
for d in pairs(newDigests) do
  if not oldDigests[d] then redis.call('HINCRBY', base .. ':digests', d, 1) end
end
for d in pairs(oldDigests) do
  if not newDigests[d] then
    if redis.call('HINCRBY', base .. ':digests', d, -1) <= 0 then
      redis.call('HDEL', base .. ':digests', d)
      redis.call('HSET', base .. ':seen:digest', d, now)
    end
  end
end
return changed
`;

/**
 * ARGV: base, nowMs, trackerId, ttlMs, synced ('1' or ''). Drops expired
 * heartbeats. Returns 1 when this tracker's previous heartbeat was still
 * there, 0 when it was not (first beat, TTL lapsed, or Redis lost its data).
 */
export const HEARTBEAT = `
local base, now, id, ttl, synced = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', base .. ':live', '-inf', now)
local was = redis.call('ZSCORE', base .. ':live', id)
redis.call('ZADD', base .. ':live', now + ttl, id)
if synced == '1' then redis.call('SET', base .. ':synced', now) end
if was then return 1 end
return 0
`;
