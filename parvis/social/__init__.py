"""Social core: posts, threads, quotes, reposts, votes, the graph, feeds, search, articles."""
