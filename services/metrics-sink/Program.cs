using Mesh.MetricsSink;
using Mesh.ServiceDefaults;

// Settings ship next to the binary; relative data paths resolve against the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults("metrics-sink");
builder.AddMetricsSink();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapMetricsSinkEndpoints();
return app.RunService();
