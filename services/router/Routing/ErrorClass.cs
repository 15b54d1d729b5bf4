namespace Mesh.Router.Routing;

/// <summary>The <c>error_class</c> of the router's dead letters (the metrics sink counts them per class).</summary>
internal static class ErrorClass
{
    public const string Decode = "decode";
    public const string Validation = "validation";
    public const string Inference = "inference";

    /// <summary>Every class, so each one's counter can start at zero.</summary>
    public static readonly string[] All = [Decode, Validation, Inference];
}
