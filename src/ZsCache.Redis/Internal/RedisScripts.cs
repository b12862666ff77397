namespace ZsCache.Redis.Internal;

/// <summary>
/// The Lua scripts of the tier. Each touches exactly one key (KEYS[1]), so it runs on Redis
/// Cluster. They read the payload's ordering prefix (bytes 0..15: magic, format version,
/// flags, version; see <see cref="RedisPayload"/>) with <c>GETRANGE key 0 15</c>.
/// </summary>
/// <remarks>
/// <para><c>ours</c> accepts every format version (it checks the magic only): bytes 0..15 mean
/// the same in all of them, so a payload of an older or newer format is still ordered by its
/// version and its fence bit. A format 1 payload (never released) therefore keeps older writes
/// out as it did, is replaced by the next newer write or fence, and is never served, since
/// <see cref="RedisPayload"/> reads it as a miss.</para>
/// <para>Versions are compared byte by byte with <c>string.byte</c>, not with Lua's <c>&lt;</c>:
/// Lua compares strings with <c>strcoll</c>, and redis-server sets <c>LC_COLLATE</c> from its
/// environment, so <c>&lt;</c> is not guaranteed to be a byte order. Big-endian non-negative
/// int64s in byte order are numeric order.</para>
/// </remarks>
internal static class RedisScripts
{
    private const string Compare = """
        local function compare(a, b)
          for i = 1, 8 do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then
              if x < y then return -1 end
              return 1
            end
          end
          return 0
        end
        local function ours(head)
          return type(head) == 'string' and string.len(head) == 16 and string.sub(head, 1, 2) == 'ZS'
        end

        """;

    /// <summary>
    /// Stores a value under the versioned-write rule. ARGV: payload, time to live (ms; 0 = none:
    /// the key persists), '1' when the time to live may be stretched to cover a fence's remaining
    /// life, not-after (unix ms, server clock). Returns 1 stored (or this very version already
    /// stored), 0 superseded (something newer is there), -1 too late (the server's clock is past
    /// not-after).
    /// </summary>
    /// <remarks>
    /// <list type="number">
    /// <item><description>Past not-after: do nothing. A write held up anywhere (client backlog, a paused
    /// or overloaded server) can therefore never land after its writer gave up on it, whatever the
    /// client's cancellation could or could not recall.</description></item>
    /// <item><description>Nothing of ours there (missing, another type, foreign bytes): store.</description></item>
    /// <item><description>A newer version (value or fence): superseded.</description></item>
    /// <item><description>The same version as a value: it is already stored (a retry whose first attempt landed).</description></item>
    /// <item><description>An older version, or a fence of the same version: store. When replacing a fence, the
    /// value keeps the key at least as long as the fence would have, if its header fully describes
    /// its expiry (no sliding window; readers check the absolute expiration), so the fence's promise
    /// to keep older stores out is not cut short. A value without expiry outlives any fence as it is.</description></item>
    /// </list>
    /// </remarks>
    public const string Write = Compare + """
        local key, payload = KEYS[1], ARGV[1]
        if redis.replicate_commands then redis.replicate_commands() end
        local t = redis.call('TIME')
        if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[4]) then
          return -1
        end
        local px = tonumber(ARGV[2])
        local head = redis.pcall('GETRANGE', key, 0, 15)
        if ours(head) then
          local c = compare(string.sub(head, 9, 16), string.sub(payload, 9, 16))
          if c > 0 then return 0 end
          local fence = string.byte(head, 4) % 2 == 1
          if c == 0 and not fence then return 1 end
          if fence and ARGV[3] == '1' and px > 0 then
            local left = redis.call('PTTL', key)
            if left > px then px = left end
          end
        end
        if px > 0 then
          redis.call('SET', key, payload, 'PX', px)
        else
          redis.call('SET', key, payload)
        end
        return 1
        """;

    /// <summary>
    /// Writes a fence. ARGV: fence payload, fence lifetime (ms). Returns 1.
    /// </summary>
    /// <remarks>
    /// <list type="number">
    /// <item><description>Something of a smaller version, a fence of the same version, or nothing of
    /// ours: the fence replaces it for the fence lifetime.</description></item>
    /// <item><description>A newer version, or the value of the same version: it stays, as it already keeps
    /// older stores out, but only while it lives; when it would expire before the fence lifetime, the
    /// promise must still hold for the whole lifetime. A fence, or a value whose header fully states
    /// its expiry (an absolute expiration, no sliding window: readers check it against their own
    /// clock), is kept longer with PEXPIRE, so a value the cache just wrote (a store that bypassed
    /// the pool) is not lost. A sliding value (whose deadline only its Redis TTL tracks) gives way
    /// to a fence of its own version for the fence lifetime. A value without expiry (PTTL -1) stays
    /// as it is.</description></item>
    /// </list>
    /// </remarks>
    public const string Fence = Compare + """
        local key, fence, life = KEYS[1], ARGV[1], tonumber(ARGV[2])
        local head = redis.pcall('GETRANGE', key, 0, 15)
        if ours(head) then
          local old = string.sub(head, 9, 16)
          local c = compare(old, string.sub(fence, 9, 16))
          local fenced = string.byte(head, 4) % 2 == 1
          if c > 0 or (c == 0 and not fenced) then
            local left = redis.call('PTTL', key)
            if left >= 0 and left < life then
              local expiry = fenced and '' or redis.call('GETRANGE', key, 24, 39)
              local zero = string.rep(string.char(0), 8)
              if fenced or (string.len(expiry) == 16 and string.sub(expiry, 1, 8) ~= zero and string.sub(expiry, 9, 16) == zero) then
                redis.call('PEXPIRE', key, life)
              else
                redis.call('SET', key, string.sub(fence, 1, 8) .. old .. string.sub(fence, 17), 'PX', life)
              end
            end
            return 1
          end
        end
        redis.call('SET', key, fence, 'PX', life)
        return 1
        """;

    /// <summary>
    /// Reads a payload without ever fetching more than a cap. ARGV: the largest length accepted.
    /// Returns the bytes; nil when missing; -1 when the key holds another type; the length when
    /// it is larger than the cap (a foreign value, never ours).
    /// </summary>
    public const string Read = """
        local n = redis.pcall('STRLEN', KEYS[1])
        if type(n) ~= 'number' then return -1 end
        if n == 0 then return false end
        if n > tonumber(ARGV[1]) then return n end
        return redis.call('GET', KEYS[1])
        """;

    /// <summary>
    /// Reads a header (bytes 0..39, <see cref="RedisPayload.HeaderLength"/>; a test holds the two
    /// equal) and the total length, for Refresh. ARGV: none. Returns
    /// <c>{header bytes, total length}</c>; nil when missing; -1 when the key holds another type.
    /// </summary>
    public const string ReadHeader = """
        local n = redis.pcall('STRLEN', KEYS[1])
        if type(n) ~= 'number' then return -1 end
        if n == 0 then return false end
        return {redis.call('GETRANGE', KEYS[1], 0, 39), n}
        """;

    /// <summary>
    /// Renews the time to live of the value that was read, and only of it. ARGV: its ordering
    /// prefix, the new time to live (ms). Returns 1 when renewed, 0 when the key now holds
    /// something else (a newer value or a fence keeps its own time to live).
    /// </summary>
    public const string Renew = """
        if redis.pcall('GETRANGE', KEYS[1], 0, 15) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """;
}
