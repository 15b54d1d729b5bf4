using Mesh.Router.Hosting;
using Mesh.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("router");
builder.AddRouter();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
