using Mesh.Producer;
using Mesh.ServiceDefaults;

// Settings ship next to the binary; relative data paths resolve against the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults("producer");
builder.AddProducer();

var app = builder.Build();
app.MapDefaultEndpoints();
return app.RunService();
