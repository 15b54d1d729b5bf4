namespace Mesh.Deploy.Tests.Dapr;

/// <summary>
/// The configuration API of Dapr's sidecar as daprd documents and serves it: GetConfiguration answers the requested
/// keys (all when none are named) and an unknown store with an error; SubscribeConfiguration first sends a message
/// with only the subscription id, then one message per change with the changed items; UnsubscribeConfiguration ends
/// that stream.
/// </summary>
internal sealed class DaprConfigurationService(string storeName, ConfigurationStore store) : Sidecar.Dapr.DaprBase
{
    private readonly Dictionary<string, CancellationTokenSource> _subscriptions = new(StringComparer.Ordinal);

    public override Task<GetConfigurationResponse> GetConfiguration(GetConfigurationRequest request, ServerCallContext context)
    {
        CheckStore(request.StoreName);
        var response = new GetConfigurationResponse();
        response.Items.Add(store.Get(request.Keys));
        return Task.FromResult(response);
    }

    public override async Task SubscribeConfiguration(SubscribeConfigurationRequest request, IServerStreamWriter<SubscribeConfigurationResponse> responseStream, ServerCallContext context)
    {
        CheckStore(request.StoreName);
        var id = Guid.NewGuid().ToString();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        lock (_subscriptions)
        {
            _subscriptions[id] = ended;
        }

        var channel = store.Subscribe();
        try
        {
            await responseStream.WriteAsync(new SubscribeConfigurationResponse { Id = id });
            await foreach (var items in channel.Reader.ReadAllAsync(ended.Token))
            {
                var keys = request.Keys.Count == 0 ? items : items.Where(i => request.Keys.Contains(i.Key)).ToDictionary();
                if (keys.Count > 0)
                {
                    var response = new SubscribeConfigurationResponse { Id = id };
                    response.Items.Add(keys);
                    await responseStream.WriteAsync(response);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            store.Unsubscribe(channel);
            lock (_subscriptions)
            {
                _subscriptions.Remove(id);
            }
        }
    }

    public override Task<UnsubscribeConfigurationResponse> UnsubscribeConfiguration(UnsubscribeConfigurationRequest request, ServerCallContext context)
    {
        CheckStore(request.StoreName);
        lock (_subscriptions)
        {
            if (_subscriptions.TryGetValue(request.Id, out var subscription))
            {
                subscription.Cancel();
                return Task.FromResult(new UnsubscribeConfigurationResponse { Ok = true });
            }
        }

        return Task.FromResult(new UnsubscribeConfigurationResponse { Ok = false, Message = $"subscription {request.Id} not found" });
    }

    private void CheckStore(string name)
    {
        if (name != storeName)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"configuration store {name} not found"));
        }
    }
}
