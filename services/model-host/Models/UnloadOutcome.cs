namespace Mesh.ModelHost.Models;

/// <summary>What an explicit unload of a model version did.</summary>
internal enum UnloadOutcome
{
    Unloaded,

    /// <summary>No such version is known.</summary>
    NotFound,

    /// <summary>The version requests without a version get: publish another one first.</summary>
    DefaultVersion,
}
