namespace Mesh.Router.Tests;

/// <summary>
/// A small real Open Inference Protocol server on Kestrel (127.0.0.1, h2c) that classifies deterministically:
/// "large" when the first feature is at least 5, else "small"; probabilities [1, 0] or [0, 1].
/// </summary>
internal sealed class FakeModelHost : IAsyncDisposable
{
    public const int FeatureWidth = 4;

    /// <summary>A model name whose ModelInfer always fails (Unavailable), for the inference dead-letter path.</summary>
    public const string BrokenModel = "broken";

    /// <summary>A model name whose ModelInfer waits until <see cref="ReleaseGate"/> (a host that hangs).</summary>
    public const string GatedModel = "gated";

    /// <summary>A model whose answers are always "constant", so a test can tell which model answered.</summary>
    public const string ConstantModel = "constant";

    /// <summary>A model that takes <see cref="WideFeatureWidth"/> features instead of <see cref="FeatureWidth"/>.</summary>
    public const string WideModel = "wide";

    public const int WideFeatureWidth = 5;

    /// <summary>
    /// A model whose host queue is full for its first <see cref="BusyRefusals"/> calls: it answers RESOURCE_EXHAUSTED,
    /// as the real model host does when its batch queue is full, then answers normally.
    /// </summary>
    public const string BusyModel = "busy";

    public const int BusyRefusals = 3;

    /// <summary>
    /// A model still loading for its first <see cref="LoadingRefusals"/> calls: it answers UNAVAILABLE with gRPC's
    /// <c>grpc-retry-pushback-ms</c> trailer, as the real model host does before its repository is loaded.
    /// </summary>
    public const string LoadingModel = "loading";

    public const int LoadingRefusals = 4;

    /// <summary>A model that takes <see cref="SlowCallMs"/> per call: a host the router cannot keep up with.</summary>
    public const string SlowModel = "slow";

    public const int SlowCallMs = 20;

    public static readonly string[] ClassNames = ["large", "small"];

    /// <summary>Serves the version and input feature names <see cref="Serve"/> set last, as a model host swapping versions does.</summary>
    public const string SwappableModel = "swappable";

    private readonly WebApplication _app;
    private readonly HostState _state;

    private FakeModelHost(WebApplication app, string endpoint, HostState state)
    {
        _app = app;
        Endpoint = endpoint;
        _state = state;
    }

    public string Endpoint { get; }

    public int Port => new Uri(Endpoint).Port;

    /// <summary>ModelInfer calls answered or refused, over all models.</summary>
    public int Calls => _state.Calls;

    /// <summary>UNAVAILABLE answers with a pushback the loading model gave so far.</summary>
    public int LoadingRefusalsGiven => _state.LoadingAnswers;

    /// <summary>RESOURCE_EXHAUSTED answers the busy model gave so far.</summary>
    public int BusyRefusalsGiven => _state.Refusals;

    /// <summary>Lets every call to <see cref="GatedModel"/> (waiting or still to come) answer.</summary>
    public void ReleaseGate() => _state.Gate.TrySetResult();

    /// <summary>From now on <see cref="SwappableModel"/> answers as <paramref name="version"/>, taking <paramref name="featureNames"/>.</summary>
    public void Serve(string version, string[] featureNames) => _state.Swappable = (version, featureNames);

    /// <summary>While false, <see cref="SwappableModel"/>'s metadata answers only without a version (NotFound with one), as some servers do.</summary>
    public bool VersionedMetadata
    {
        get => _state.VersionedMetadata;
        set => _state.VersionedMetadata = value;
    }

    public static string Classify(float firstFeature) => firstFeature >= 5 ? "large" : "small";

    /// <summary>Starts a host on <paramref name="port"/> (0: any free port; a stopped host's port to bring it back).</summary>
    public static async Task<FakeModelHost> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var state = new HostState();
        builder.Services.AddSingleton(state);
        var app = builder.Build();
        app.MapGrpcService<Service>();
        await app.StartAsync();
        var address = app.Urls.Single();
        return new FakeModelHost(app, address, state);
    }

    public async ValueTask DisposeAsync()
    {
        _state.Gate.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class HostState
    {
        private int _calls;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Calls => Volatile.Read(ref _calls);

        private int _refusals;

        public void Called() => Interlocked.Increment(ref _calls);

        /// <summary>True for the first <see cref="BusyRefusals"/> calls of the busy model.</summary>
        public bool Refuse() => Interlocked.Increment(ref _refusals) <= BusyRefusals;

        public int Refusals => Math.Min(Volatile.Read(ref _refusals), BusyRefusals);

        private int _loading;

        /// <summary>True for the first <see cref="LoadingRefusals"/> calls of the loading model.</summary>
        public bool StillLoading() => Interlocked.Increment(ref _loading) <= LoadingRefusals;

        public int LoadingAnswers => Math.Min(Volatile.Read(ref _loading), LoadingRefusals);

        private volatile Tuple<string, string[]> _swappable = Tuple.Create("1", new[] { "f0", "f1", "f2", "f3" });

        public volatile bool VersionedMetadata = true;

        public (string Version, string[] Names) Swappable
        {
            get => (_swappable.Item1, _swappable.Item2);
            set => _swappable = Tuple.Create(value.Version, value.Names);
        }
    }

    private static int WidthOf(string model) => model == WideModel ? WideFeatureWidth : FeatureWidth;

    private sealed class Service(HostState state) : GRPCInferenceService.GRPCInferenceServiceBase
    {
        public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context) =>
            Task.FromResult(new ModelReadyResponse { Ready = true });

        public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
        {
            var metadata = new ModelMetadataResponse { Name = request.Name, Platform = "fake" };
            var input = new ModelMetadataResponse.Types.TensorMetadata { Name = "features", Datatype = "FP32", Shape = { -1, WidthOf(request.Name) } };
            if (request.Name == SwappableModel)
            {
                // Only the version served now is known, as on a host that unloads the version it replaced.
                var (served, names) = state.Swappable;
                if (request.Version.Length > 0 && (request.Version != served || !state.VersionedMetadata))
                {
                    throw new RpcException(new Status(StatusCode.NotFound, $"version {request.Version} of {request.Name} is not loaded"));
                }

                metadata.Versions.Add(served);
                input.Parameters["feature_names"] = new InferParameter { StringParam = System.Text.Json.JsonSerializer.Serialize(names) };
            }
            else
            {
                metadata.Versions.Add(request.Version);
            }

            metadata.Inputs.Add(input);
            metadata.Outputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "label", Datatype = "BYTES", Shape = { -1 } });
            metadata.Outputs.Add(new ModelMetadataResponse.Types.TensorMetadata { Name = "probabilities", Datatype = "FP32", Shape = { -1, ClassNames.Length } });
            return Task.FromResult(metadata);
        }

        public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
        {
            state.Called();
            if (request.ModelName == BrokenModel)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "the broken model never answers"));
            }

            if (request.ModelName == GatedModel)
            {
                await state.Gate.Task.WaitAsync(context.CancellationToken);
            }

            if (request.ModelName == SlowModel)
            {
                await Task.Delay(SlowCallMs, context.CancellationToken);
            }

            if (request.ModelName == LoadingModel && state.StillLoading())
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "model 'loading' version '1' is not loaded yet: the model host is still loading its repository"),
                    new Metadata { { "grpc-retry-pushback-ms", "50" } });
            }

            if (request.ModelName == BusyModel && state.Refuse())
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, "the model's batch queue is full (ModelHost:Batching:MaxQueue)"));
            }

            var response = Answer(request);
            if (request.ModelName == SwappableModel)
            {
                response.ModelVersion = state.Swappable.Version;
            }

            return response;
        }


        private static ModelInferResponse Answer(ModelInferRequest request)
        {
            var input = request.Inputs.Single();
            var width = WidthOf(request.ModelName);
            if (input.Name != "features" || input.Datatype != "FP32" || input.Shape.Count != 2 || input.Shape[1] != width)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"unexpected input {input.Name} {input.Datatype} [{string.Join(",", input.Shape)}]"));
            }

            var rows = (int)input.Shape[0];
            var values = MemoryMarshal.Cast<byte, float>(request.RawInputContents.Single().Span);
            if (values.Length != rows * width)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"{values.Length} values for {rows} rows"));
            }

            var labels = new MemoryStream();
            var scores = new float[rows * ClassNames.Length];
            for (var row = 0; row < rows; row++)
            {
                var label = request.ModelName == ConstantModel ? "constant" : Classify(values[row * width]);
                var bytes = Encoding.UTF8.GetBytes(label);
                var length = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
                labels.Write(length);
                labels.Write(bytes);
                scores[(row * ClassNames.Length) + Math.Max(0, Array.IndexOf(ClassNames, label))] = 1;
            }

            var response = new ModelInferResponse { ModelName = request.ModelName, ModelVersion = request.ModelVersion };
            response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "label", Datatype = "BYTES", Shape = { rows } });
            response.Outputs.Add(new ModelInferResponse.Types.InferOutputTensor { Name = "probabilities", Datatype = "FP32", Shape = { rows, ClassNames.Length } });
            response.RawOutputContents.Add(ByteString.CopyFrom(labels.ToArray()));
            response.RawOutputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(scores.AsSpan())));
            response.Parameters["class_names"] = new InferParameter { StringParam = "[\"large\",\"small\"]" };
            return response;
        }
    }
}
