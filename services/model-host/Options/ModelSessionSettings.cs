using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Options;

/// <summary>
/// ONNX Runtime session options of one model, and whether its floating-point inputs may carry NaN or
/// ±Infinity. Refused unless the model says it takes them: a linear model turns NaN into NaN scores and a
/// wrong label, while tree ensembles often read NaN as "missing" and declare <c>acceptNonFinite</c>.
/// </summary>
internal sealed record ModelSessionSettings(int IntraOpThreads, int InterOpThreads, GraphOptimizationLevel GraphOptimizationLevel, bool AcceptNonFinite = false);
