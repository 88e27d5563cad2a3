"""The demo city's 12345 history: quick, deterministic, idempotent, with a spike today."""

import datetime as dt

from tongban.core import calendar
from tongban.demo import hotline_history as demo_history
from tongban.hotline import analytics
from tongban.hotline.models import Ticket, TicketStep


def test_the_demo_history_is_quick_deterministic_idempotent_and_spikes_today(city):
    day = calendar.today() - dt.timedelta(days=1)  # a whole day in the past: nothing is clamped to now
    written = demo_history.history_seed(days=28, per_day=30, today=day)
    assert written == Ticket.objects.count() > 28 * 20
    assert demo_history.history_seed(days=28, per_day=30, today=day) == 0
    assert Ticket.objects.count() == written
    assert not Ticket.objects.exclude(number__startswith="12345H").exists()
    assert TicketStep.objects.filter(kind="imported").count() == written
    first = min(Ticket.objects.values_list("created_at", flat=True))
    assert calendar.as_local_date(first) == day - dt.timedelta(days=28)
    consults = Ticket.objects.filter(ticket_type="consult").count()
    assert 0.3 < consults / written < 0.5
    assert Ticket.objects.filter(status__in=Ticket.OPEN).exists()
    assert Ticket.objects.exclude(topic="").count() == written
    alerts = analytics.spikes_detect(today=day)
    assert (demo_history.SPIKE_TOPIC, demo_history.SPIKE_DISTRICT) in {
        (a.topic, a.district.code) for a in alerts
    }
    snapshot = list(
        Ticket.objects.order_by("number").values_list("number", "topic", "district__code", "status")
    )
    TicketStep.objects.all().delete()
    Ticket.objects.all().delete()
    demo_history.history_seed(days=28, per_day=30, today=day)
    again = list(Ticket.objects.order_by("number").values_list("number", "topic", "district__code", "status"))
    assert again == snapshot
