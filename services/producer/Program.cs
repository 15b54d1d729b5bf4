using Mesh.Producer;
using Mesh.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("producer");
builder.AddProducer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
