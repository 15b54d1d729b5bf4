namespace Mesh.Router.Routing;

/// <summary>
/// Lets the pipeline wait on the consume thread without starving the consumer: the consume loop pauses its
/// partitions, keeps polling (heartbeats, rebalances) and resumes once <c>tryProceed</c> succeeds.
/// </summary>
internal interface IConsumePauser
{
    public void WaitPaused(Func<bool> tryProceed, CancellationToken cancellationToken);
}
