"""Classes and ratings: agreement, consensus (majority vote, Dawid–Skene), HLP, label quality."""
