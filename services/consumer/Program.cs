using Mesh.Consumer;
using Mesh.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("consumer");
builder.AddConsumer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
