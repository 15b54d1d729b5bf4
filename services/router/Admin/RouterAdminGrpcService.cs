using Grpc.Core;
using Mesh.Contracts.V1;

namespace Mesh.Router.Admin;

/// <summary>The admin API over gRPC (<c>mesh.v1.RouterAdmin</c>); every call needs the bearer token.</summary>
internal sealed class RouterAdminGrpcService(AdminOperations admin) : RouterAdmin.RouterAdminBase
{
    public override Task<ListExperimentsResponse> ListExperiments(ListExperimentsRequest request, ServerCallContext context) =>
        RunAsync(context, () => Task.FromResult(admin.List()));

    public override Task<ExperimentStatus> GetExperiment(GetExperimentRequest request, ServerCallContext context) =>
        RunAsync(context, () => Task.FromResult(admin.Get(request.Experiment)));

    public override Task<ExperimentStatus> SetWeights(SetWeightsRequest request, ServerCallContext context) =>
        RunAsync(context, () => admin.SetWeightsAsync(request, context.CancellationToken));

    public override Task<RecordRewardResponse> RecordReward(RecordRewardRequest request, ServerCallContext context) =>
        RunAsync(context, async () =>
        {
            await admin.RecordRewardAsync(request, context.CancellationToken);
            return new RecordRewardResponse();
        });

    public override Task<ListExperimentsResponse> Reload(ReloadRequest request, ServerCallContext context) =>
        RunAsync(context, () => admin.ReloadAsync(context.CancellationToken));

    private async Task<T> RunAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        if (!admin.IsAuthorized(context.RequestHeaders.GetValue("authorization")))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, admin.RefusalReason));
        }

        try
        {
            return await call();
        }
        catch (KeyNotFoundException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, e.Message));
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }
}
