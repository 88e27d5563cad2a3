"""The applicant's rating page (好差评) for a completed case."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tongban.cases.models import Case
from tongban.cases.selectors import case_get_for_user, case_is_applicant
from tongban.core.exceptions import Conflict
from tongban.identity.permissions import has_permission
from tongban.identity.selectors import actor_from_request

from . import selectors, services
from .forms import RatingForm


def _case_to_rate(request, number):
    """The user's own case: 404 when they cannot see it, 403 when they see it but are not its applicant."""
    case = case_get_for_user(request.user, number)
    if case is None:
        raise Http404
    if not (has_permission(request.user, "portal.rate") and case_is_applicant(request.user, case)):
        raise PermissionDenied(_("Only the applicant can rate this case."))
    return case


@login_required
def rate(request, number):
    """Rate a completed case once; afterwards the page shows the rating given."""
    case = _case_to_rate(request, number)
    rating = selectors.rating_for_case(case)
    if rating is not None:
        return render(request, "evaluation/rated.html", {"case": case, "rating": rating})
    if case.status != Case.Status.COMPLETED:
        raise PermissionDenied(_("A case can be rated once it is completed."))
    channel = services.rating_channel(case)
    form = RatingForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            services.rating_submit(
                actor=actor_from_request(request),
                case=case,
                level=form.cleaned_data["level"],
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except Conflict:
            return redirect("evaluation:rate", number=case.number)
        else:
            return redirect("evaluation:thanks", number=case.number)
    return render(request, "evaluation/rate.html", {"case": case, "form": form})


@login_required
def thanks(request, number):
    case = _case_to_rate(request, number)
    rating = selectors.rating_for_case(case)
    if rating is None:
        return redirect("evaluation:rate", number=case.number)
    return render(request, "evaluation/thanks.html", {"case": case, "rating": rating})
