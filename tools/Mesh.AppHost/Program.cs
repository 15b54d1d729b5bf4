using Mesh.AppHost;
using Microsoft.Extensions.DependencyInjection;

var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
{
    Args = args,
    DisableDashboard = string.Equals(Environment.GetEnvironmentVariable("MESH_DASHBOARD"), "false", StringComparison.OrdinalIgnoreCase),
});
var stack = MeshStackSettings.From(builder.Configuration, builder.AppHostDirectory);
builder.AddMeshStack(stack);
builder.Services.AddHostedService(sp => new ResourceLogWriter(sp.GetRequiredService<ResourceNotificationService>(), sp.GetRequiredService<ResourceLoggerService>(), stack.LogDir));
builder.Build().Run();
