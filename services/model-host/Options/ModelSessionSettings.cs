using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Options;

/// <summary>
/// ONNX Runtime session options of one model, and whether its floating-point inputs may carry NaN (tree
/// ensembles often read NaN as "missing"; a linear model turns it into NaN scores and a wrong label).
/// </summary>
internal sealed record ModelSessionSettings(int IntraOpThreads, int InterOpThreads, GraphOptimizationLevel GraphOptimizationLevel, bool RejectNaN = false);
