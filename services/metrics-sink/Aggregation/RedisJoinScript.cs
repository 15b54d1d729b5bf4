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
    //   'p', field, Prediction -> {0} a duplicate; {1, label} new, with the stored label ('' when none or given up)
    //   'l', Label             -> {0} a duplicate; {1, field, prediction, ...} new, with the live predictions it joins
    //   'x', n, n fields       -> 1 a label is stored, so its writer joined them; 0 given up (emptied)
    //   'y'                    -> 1 a prediction is stored, so its writer joined the label; 0 given up (emptied)
    // Every new record sets its key's TTL; duplicates and expiries leave it.
    public const string Script = """
        local ttl = ARGV[1]
        local out = {}
        local a = 2
        for k = 1, #KEYS do
          local key = KEYS[k]
          local kind = ARGV[a]
          if kind == 'p' then
            if redis.call('HSETNX', key, ARGV[a + 1], ARGV[a + 2]) == 0 then
              out[k] = {0}
            else
              redis.call('PEXPIRE', key, ttl)
              out[k] = {1, redis.call('HGET', key, 'l') or ''}
            end
            a = a + 3
          elseif kind == 'l' then
            if redis.call('HSETNX', key, 'l', ARGV[a + 1]) == 0 then
              out[k] = {0}
            else
              redis.call('PEXPIRE', key, ttl)
              local all = redis.call('HGETALL', key)
              local found = {1}
              for i = 1, #all, 2 do
                if all[i] ~= 'l' and all[i + 1] ~= '' then
                  found[#found + 1] = all[i]
                  found[#found + 1] = all[i + 1]
                end
              end
              out[k] = found
            end
            a = a + 2
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
              if all[i] ~= 'l' and all[i + 1] ~= '' then
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

    public static RedisValue[] Arguments(RedisValue ttlMs, List<SharedJoinOperation> operations, int[] chunk)
    {
        var arguments = new List<RedisValue>(1 + (chunk.Length * 3)) { ttlMs };
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
                    break;
                case SharedJoinKind.Label:
                    arguments.Add("l");
                    arguments.Add(operation.Label!.ToByteArray());
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
