using Mesh.Consumer;
using Mesh.ServiceDefaults;

return ConsumerApp.Create(args).RunService();
