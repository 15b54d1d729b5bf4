namespace Mesh.Router.Inference;

/// <summary>The Open Inference Protocol datatypes an arm's output contract accepts.</summary>
internal static class OutputDatatypes
{
    public const string Bytes = "BYTES";
    public const string Int64 = "INT64";
    public const string Int32 = "INT32";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";

    public const string LabelTypes = "BYTES, INT64 or INT32";
    public const string ScoreTypes = "FP32 or FP64";

    public static bool IsLabel(string datatype) => datatype is Bytes or Int64 or Int32;

    public static bool IsScores(string datatype) => datatype is Fp32 or Fp64;
}
