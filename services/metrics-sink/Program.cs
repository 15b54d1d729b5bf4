using Mesh.MetricsSink;
using Mesh.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("metrics-sink");
builder.AddMetricsSink();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapMetricsSinkEndpoints();
app.Run();
