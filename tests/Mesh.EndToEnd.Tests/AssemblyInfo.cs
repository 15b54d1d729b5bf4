// Each test here starts the whole mesh (or several services) as processes; on two cores they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
