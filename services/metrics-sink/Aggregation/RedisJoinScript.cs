using Google.Protobuf;
using StackExchange.Redis;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The Lua script that decides records in the Redis join state, atomic in Redis, with how its arguments are written
/// and its replies read. HSETNX tells a duplicate from a new record across instances, and of a prediction and its
/// label the one stored second joins (the script returns the partner), so a pair is joined exactly once wherever
/// its halves arrived.
/// </summary>
internal static class RedisJoinScript
{
    // KEYS: one request hash per operation; ARGV[1] the TTL in ms, then per operation, in order:
    //   'p', field, Prediction, origin -> {0} a duplicate; {1, label} new, with the stored label ('' when none or given up)
    //   'l', Label, origin             -> {0} a duplicate; {1, field, prediction, ...} new, with the live predictions it joins
    //   'x', n, n fields       -> 1 a label is stored, so its writer joined them; 0 given up (emptied)
    //   'y'                    -> 1 a prediction is stored, so its writer joined the label; 0 given up (emptied)
    // Every new record sets its key's TTL; duplicates and expiries leave it. Besides the records, a hash holds
    // 'j:{field}' (who joined a prediction: 'p' its own writer, 'l' the label's) and 'c:{field}' (the record's counts
    // are in the aggregates, set by AccountScript) and 'o:{field}' (the origin, topic and partition, it was read from).
    // A record stored but never counted (its process died between the two scripts), read again from the same origin,
    // is answered again as the first time, partners included: only one consumer at a time reads a partition, so
    // that is its restarted reader, not another instance counting it right now (that one sees a duplicate).
    public const string Script = """
        local ttl = ARGV[1]
        local out = {}
        local a = 2
        for k = 1, #KEYS do
          local key = KEYS[k]
          local kind = ARGV[a]
          if kind == 'p' then
            local field = ARGV[a + 1]
            local origin = ARGV[a + 3]
            if redis.call('HSETNX', key, field, ARGV[a + 2]) == 0 then
              if redis.call('HEXISTS', key, 'c:' .. field) == 1 or origin == '' or redis.call('HGET', key, 'o:' .. field) ~= origin then
                out[k] = {0}
              elseif redis.call('HGET', key, 'j:' .. field) == 'p' then
                out[k] = {1, redis.call('HGET', key, 'l') or ''}
              else
                out[k] = {1, ''}
              end
            else
              redis.call('PEXPIRE', key, ttl)
              if origin ~= '' then redis.call('HSET', key, 'o:' .. field, origin) end
              local label = redis.call('HGET', key, 'l') or ''
              if label ~= '' then redis.call('HSET', key, 'j:' .. field, 'p') end
              out[k] = {1, label}
            end
            a = a + 4
          elseif kind == 'l' then
            local origin = ARGV[a + 2]
            local new = redis.call('HSETNX', key, 'l', ARGV[a + 1]) == 1
            if not new and (redis.call('HEXISTS', key, 'c:l') == 1 or origin == '' or redis.call('HGET', key, 'o:l') ~= origin) then
              out[k] = {0}
            else
              if new then
                redis.call('PEXPIRE', key, ttl)
                if origin ~= '' then redis.call('HSET', key, 'o:l', origin) end
              end
              local all = redis.call('HGETALL', key)
              local found = {1}
              for i = 1, #all, 2 do
                local field = all[i]
                if string.sub(field, 1, 2) == 'p:' and all[i + 1] ~= '' then
                  local joiner = redis.call('HGET', key, 'j:' .. field)
                  if new and not joiner then
                    redis.call('HSET', key, 'j:' .. field, 'l')
                    joiner = 'l'
                  end
                  if joiner == 'l' then
                    found[#found + 1] = field
                    found[#found + 1] = all[i + 1]
                  end
                end
              end
              out[k] = found
            end
            a = a + 3
          elseif kind == 'x' then
            local n = tonumber(ARGV[a + 1])
            local label = redis.call('HGET', key, 'l')
            if label and label ~= '' then
              out[k] = 1
            else
              for i = a + 2, a + 1 + n do
                if redis.call('HEXISTS', key, ARGV[i]) == 1 then redis.call('HSET', key, ARGV[i], '') end
              end
              out[k] = 0
            end
            a = a + 2 + n
          else
            local joined = 0
            local all = redis.call('HGETALL', key)
            for i = 1, #all, 2 do
              if string.sub(all[i], 1, 2) == 'p:' and all[i + 1] ~= '' then
                joined = 1
                break
              end
            end
            if joined == 0 and redis.call('HEXISTS', key, 'l') == 1 then redis.call('HSET', key, 'l', '') end
            out[k] = joined
            a = a + 1
          end
        end
        return out
        """;

    // KEYS[1] the aggregates hash, then one request hash per operation; ARGV[1] the TTL in ms, then per operation:
    //   mark, n, then n triples ('i', field, increment) or ('s', field, text)
    // An operation whose mark is already set was counted before (by this process before a restart, or another
    // instance that read the same record): its writes are skipped, so each record's counts are added once.
    public const string AccountScript = """
        local aggregates = KEYS[1]
        local ttl = ARGV[1]
        local a = 2
        for k = 2, #KEYS do
          local key = KEYS[k]
          local fresh = redis.call('HSETNX', key, ARGV[a], '1') == 1
          if fresh and redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
          local n = tonumber(ARGV[a + 1])
          a = a + 2
          for i = 1, n do
            if fresh then
              if ARGV[a] == 's' then
                redis.call('HSET', aggregates, ARGV[a + 1], ARGV[a + 2])
              else
                redis.call('HINCRBYFLOAT', aggregates, ARGV[a + 1], ARGV[a + 2])
              end
            end
            a = a + 3
          end
        end
        return 1
        """;

    /// <summary>The arguments of <see cref="AccountScript"/> for <paramref name="operations"/>, each with a mark.</summary>
    public static RedisValue[] AccountArguments(RedisValue ttlMs, IEnumerable<SharedJoinOperation> operations)
    {
        var arguments = new List<RedisValue> { ttlMs };
        foreach (var operation in operations)
        {
            arguments.Add(operation.CountedMark);
            arguments.Add(operation.Writes.Count);
            foreach (var write in operation.Writes)
            {
                arguments.Add(write.Text is null ? "i" : "s");
                arguments.Add(write.Field);
                arguments.Add(write.Text is { } text ? text : write.Increment.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return [.. arguments];
    }


    public static RedisValue[] Arguments(RedisValue ttlMs, List<SharedJoinOperation> operations, int[] chunk)
    {
        var arguments = new List<RedisValue>(1 + (chunk.Length * 4)) { ttlMs };
        foreach (var i in chunk)
        {
            var operation = operations[i];
            switch (operation.Kind)
            {
                case SharedJoinKind.Prediction:
                    var prediction = operation.Prediction!;
                    arguments.Add("p");
                    arguments.Add(SharedJoinOperation.PredictionField(prediction.Experiment, prediction.Arm, prediction.Shadow));
                    arguments.Add(prediction.ToByteArray());
                    arguments.Add(operation.Origin);
                    break;
                case SharedJoinKind.Label:
                    arguments.Add("l");
                    arguments.Add(operation.Label!.ToByteArray());
                    arguments.Add(operation.Origin);
                    break;
                case SharedJoinKind.ExpirePredictions:
                    arguments.Add("x");
                    arguments.Add(operation.Fields.Count);
                    foreach (var field in operation.Fields)
                    {
                        arguments.Add(field);
                    }

                    break;
                default:
                    arguments.Add("y");
                    break;
            }
        }

        return [.. arguments];
    }

    public static bool TryRead(SharedJoinOperation operation, RedisResult reply)
    {
        if (operation.Kind is SharedJoinKind.ExpirePredictions or SharedJoinKind.ExpireLabel)
        {
            if (reply.Resp2Type != ResultType.Integer)
            {
                return false;
            }

            operation.JoinedElsewhere = (long)reply == 1;
            return true;
        }

        if (reply.Resp2Type != ResultType.Array || (RedisResult[]?)reply is not { Length: > 0 } items)
        {
            return false;
        }

        operation.Seen = (long)items[0] == 0;
        if (operation.Seen)
        {
            return true;
        }

        if (operation.Kind == SharedJoinKind.Prediction)
        {
            operation.PartnerLabel = items.Length > 1 ? (byte[]?)items[1] : null;
            return true;
        }

        var partners = new List<(string Field, byte[] Bytes)>((items.Length - 1) / 2);
        for (var i = 1; i + 1 < items.Length; i += 2)
        {
            partners.Add(((string)items[i]!, (byte[])items[i + 1]!));
        }

        operation.PartnerPredictions = partners;
        return true;
    }
}
