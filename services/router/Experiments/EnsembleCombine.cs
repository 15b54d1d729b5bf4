namespace Mesh.Router.Experiments;

internal enum EnsembleCombine
{
    Mean,
    WeightedMean,
    Vote,
}
