namespace Mesh.Router.Experiments;

/// <summary>The prediction contexts of one experiment, by arm and shadow index, and the combined ensemble's.</summary>
internal sealed record ExperimentContexts(PredictionContext[] Arms, PredictionContext[] Shadows, PredictionContext Ensemble);
