using Mesh.ModelHost;
using Mesh.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("model-host");
builder.AddModelHost();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapModelHost();
app.Run();
