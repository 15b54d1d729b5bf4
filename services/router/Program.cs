using Mesh.Router.Admin;
using Mesh.Router.Hosting;
using Mesh.ServiceDefaults;

// Settings ship next to the binary; a relative Router:ExperimentFile resolves against the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults("router");
builder.AddRouter();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapRouterAdmin();
return app.RunService();
