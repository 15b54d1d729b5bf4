using Mesh.ModelHost;
using Mesh.ServiceDefaults;

// Settings ship next to the binary; a relative ModelHost:ModelRepository resolves against the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults("model-host");
builder.AddModelHost();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapModelHost();
return app.RunService();
