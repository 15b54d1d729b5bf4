namespace Mesh.Router.Experiments;

/// <summary>
/// The arm an experiment chose for one record (<see cref="Index"/> -1: every member of an ensemble), with the
/// probability and the policy version the choice was made with, so it can be replayed offline.
/// </summary>
internal readonly record struct ArmChoice(int Index, double Probability, string PolicyVersion);
