using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Options;

/// <summary>How records are matched to a model's features (<c>Router:Features</c>).</summary>
internal sealed class FeatureOptions
{
    public const string DeadLetter = "dead-letter";
    public const string ByPosition = "by-position";

    /// <summary>
    /// A record whose names cannot be mapped onto a model's features (one is missing, or one is named twice):
    /// <c>dead-letter</c> it with the reason, or score it <c>by-position</c> when its value count fits, as records without names are.
    /// </summary>
    [AllowedValues(DeadLetter, ByPosition, ErrorMessage = "Router:Features:UnknownNames must be dead-letter or by-position.")]
    public string UnknownNames { get; set; } = DeadLetter;
}
