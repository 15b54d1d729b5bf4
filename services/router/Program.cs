using Mesh.Router;
using Mesh.ServiceDefaults;

return RouterApp.Create(args).RunService();
