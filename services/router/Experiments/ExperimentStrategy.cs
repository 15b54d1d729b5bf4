namespace Mesh.Router.Experiments;

internal enum ExperimentStrategy
{
    Ab,
    Bandit,
    Ensemble,
}
