using Mesh.Consumer;
using Mesh.ServiceDefaults;

// Settings ship next to the binary; relative data paths resolve against the current directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddServiceDefaults("consumer");
builder.AddConsumer();

var app = builder.Build();
app.MapDefaultEndpoints();
return app.RunService();
