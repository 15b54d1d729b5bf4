using Mesh.Producer;
using Mesh.ServiceDefaults;

return ProducerApp.Create(args).RunService();
