"""Property-based: requests generated from the OpenAPI document never get a 500.

A bounded run (a few dozen examples per operation, about half a minute in all) on a database
holding a real story, so ids 1… hit data as well as misses. "Check now" is left out: it
fetches pages, which is tested with real servers elsewhere.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from test_web_support import insert_story

from tracker.web import create_app

EXAMPLES = 20


@pytest.mark.slow
def test_the_api_never_answers_500(db, settings):
    insert_story(db, "https://example.com/story", ["One.\n\nTwo.", "One.\n\nTwo, edited."])
    insert_story(db, "https://example.com/empty", [], tags=("t",))
    # Schemathesis calls the app as http://testserver: the name it is configured under.
    strict = settings.model_copy(
        update={"allow_private_networks": False, "base_url": "http://testserver"}
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(db, strict))
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not op.path.endswith("/check")]
    assert len(operations) >= 10

    for operation in operations:
        strategy = operation.as_strategy()

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def never_500(case):
            response = case.call()
            assert response.status_code < 500, (case.method, case.formatted_path, response.text)

        never_500()
