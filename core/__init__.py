"""The platform under Concord's domain apps: errors, HTTP plumbing (middleware, logging,
health, metrics, uploads), the API's exception handler, schema class and strict input
serializer, background jobs (the Job model, the one lifecycle, the runner registry, one Celery
task, the reaper), the audit log and accounts (auth and account pages, the users API).

``core`` imports no domain app (``labeling``, ``consistency``, ``demo``), not even inside a
function. Domain apps plug in at start-up instead (their ``AppConfig.ready()``): job kinds and
their runners (:mod:`core.jobs.registry`), other rows that follow the job lifecycle and must be
reaped (:mod:`core.jobs.lifecycle`), a user's projects for the account page and ``/api/me/``
(:mod:`core.accounts.projects`) and extra Content-Security-Policy origins
(:mod:`core.http.security`). String model references such as ``"labeling.Project"`` in a
ForeignKey are not imports and are allowed: the tables ``core`` owns point at projects.
"""
