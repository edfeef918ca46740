// ResourceGraph
