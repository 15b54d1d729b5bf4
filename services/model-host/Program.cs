using Mesh.ModelHost;
using Mesh.ServiceDefaults;

return ModelHostApp.Create(args).RunService();
