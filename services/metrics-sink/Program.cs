using Mesh.MetricsSink;
using Mesh.ServiceDefaults;

return MetricsSinkApp.Create(args).RunService();
