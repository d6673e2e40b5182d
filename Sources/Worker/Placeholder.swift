enum _PlaceholderWorker {}
