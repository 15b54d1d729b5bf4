using Mesh.ModelHost.Options;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Models;

/// <summary>Opens the ONNX Runtime session of one model folder with the settings its config.json overrides.</summary>
internal static class ModelFolder
{
    public static (InferenceSession Session, ModelConfigFile? Config, string ModelPath, ModelSessionSettings Settings) Open(
        string folder,
        MlmodelFile? mlmodel,
        ModelSessionSettings defaults)
    {
        var modelPath = Path.Combine(folder, mlmodel?.OnnxModelFile ?? RepositoryLayout.ModelFileName);
        var configPath = Path.Combine(folder, RepositoryLayout.ConfigFileName);
        var config = ModelConfigFile.Read(configPath);
        var settings = config?.SessionSettings(defaults, configPath) ?? defaults;
        using var sessionOptions = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            IntraOpNumThreads = settings.IntraOpThreads,
            InterOpNumThreads = settings.InterOpThreads,
            ExecutionMode = settings.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = settings.GraphOptimizationLevel,
        };
        return (new InferenceSession(modelPath, sessionOptions), config, modelPath, settings);
    }
}
