"""``tongban bench seed`` writes persons with their households and rolls them back."""

import io

import pytest
from django.core.management.base import CommandError

from tongban.bench.seed import bench_seed
from tongban.identity.models import Household, Person


@pytest.mark.django_db
def test_the_seed_benchmark_writes_persons_and_leaves_nothing_behind():

    out = io.StringIO()
    figures = bench_seed(stdout=out, options={"people": 400, "batch_size": 100, "seed": 1})
    assert figures["persons"] == 400
    assert figures["persons_per_s"] > 0
    assert "persons/s" in out.getvalue()
    assert not Person.objects.exists()
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_the_seed_benchmark_refuses_a_database_with_persons():

    Person.objects.create(resident_id="11010519491231002X", name="测试", sex="F", birth_date="1949-12-31")
    with pytest.raises(CommandError, match="without persons"):
        bench_seed(stdout=io.StringIO(), options={"people": 10, "batch_size": 10, "seed": 1})
