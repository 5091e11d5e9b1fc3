"""Server-rendered pages for managers and reviewers: projects overview, agreement, review
queue and item, label definitions, labelers and model, operations, data browser, export."""
