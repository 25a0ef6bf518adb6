"""The signed-in user's onboarding, as a page and as the JSON it polls.

Non-atomic: waiting on Temporal, they must hold no database lock{% if cookiecutter.database == "sqlite" %}
(an IMMEDIATE transaction takes SQLite's write lock at once){% endif %}.
"""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import render

from django_temporal_bridge.config import workflow_url

from .progress import onboarding_progress


@transaction.non_atomic_requests
@login_required
def onboarding_status(request):
    progress = onboarding_progress(request.user.pk)
    return render(
        request,
        "temporal_app/onboarding_status.html",
        {
            "progress": progress,
            # The Temporal Web UI is for the team, not for users.
            "workflow_url": workflow_url(progress.workflow_id)
            if request.user.is_staff
            else "",
        },
    )


@transaction.non_atomic_requests
@login_required
def onboarding_status_json(request):
    return JsonResponse(onboarding_progress(request.user.pk).as_json())
