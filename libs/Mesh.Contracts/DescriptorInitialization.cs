using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Mesh.Contracts;

/// <summary>
/// Builds every descriptor of the mesh's contracts on one thread, when the assembly is first used.
/// Google.Protobuf builds a file's descriptor in a type initializer that writes to a static Dictionary shared by
/// all files without a lock (protocolbuffers/protobuf#29696, open): two threads that each touch a contract first
/// (a Kafka consume thread parsing a FeatureRecord while another builds its first Prediction) can corrupt it and
/// leave a contract's type initializer failed for the life of the process. The runtime runs a module initializer
/// once, before any other code of this assembly runs on any thread, so the race cannot happen here.
/// </summary>
internal static class DescriptorInitialization
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Descriptors must be built before any consumer thread can touch them; no caller can be relied on to do it first.")]
    internal static void BuildDescriptors()
    {
        // Each also builds the descriptors it imports (google/protobuf/timestamp.proto among them).
        _ = V1.FeaturesReflection.Descriptor;
        _ = V1.PredictionsReflection.Descriptor;
        _ = V1.LabelsReflection.Descriptor;
        _ = V1.DeadLetterReflection.Descriptor;
        _ = V1.RouterAdminReflection.Descriptor;
        _ = Inference.GrpcPredictV2Reflection.Descriptor;
    }
}
