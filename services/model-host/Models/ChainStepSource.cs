namespace Mesh.ModelHost.Models;

/// <summary>
/// One step of a chain: the name it is known by (a repository model such as <c>iris-scaler/1</c>, or an MLflow
/// URI), the folder that holds its files, and its MLmodel file when it came from MLflow.
/// </summary>
internal sealed record ChainStepSource(string Name, string Folder, MlmodelFile? Mlmodel);
