"""What every app's workflows run on: the plumbing between Django and Temporal.

- config.py: where clients connect (Temporal's own environment
  configuration) and the worker's settings.
- client.py: connecting; the process's shared client for Django code.
- discovery.py: the workflows and activities of every installed app.
- worker.py: the worker and its process lifecycle.
- interceptors.py: database connection hygiene around each activity.
{%- if cookiecutter.use_sentry %}
- sentry.py: failed activities reported to Sentry, once each.
{%- endif %}
- checks.py: system checks of the configuration.

The example workflows (onboarding, batches) live beside this package, in
temporal_app's workflows.py and activities.py, as any app's would.
"""
