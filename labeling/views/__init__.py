"""Server-rendered pages of the labeling app: a project, its settings, people and data, the
labeling workspace, item media. (Sign-in and account pages are the platform's.)"""
