"""The API's edges: an unknown /api/ path answers JSON, empty filters are refused, and the schema
documents the statuses DRF, the filters and the sign-in throttle answer around every view."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_an_api_path_no_route_matches_is_a_json_404(client_for, viewer):
    response = client_for(viewer).get("/api/watches/acme/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_page_no_route_matches_is_still_the_html_404(client_for, viewer):
    response = client_for(viewer).get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/sources/", {"kind": ""}, "kind"),
        ("/api/mentions/", {"published_after": ""}, "published_after"),
        ("/api/mentions/", {"watch": ""}, "watch"),
        ("/api/rules/", {"is_active": ""}, "is_active"),
        ("/api/message-templates/", {"approval_state": ""}, "approval_state"),
        ("/api/message-templates/", {"language": "x" * 9}, "language"),
        ("/api/message-templates/", {"playbook": "-3"}, "playbook"),
        ("/api/message-templates/", {"family": ""}, "family"),
        ("/api/mentions/", {"page_size": "null"}, "page_size"),
        ("/api/mentions/", {"page_size": "0"}, "page_size"),
    ],
)
def test_a_filter_given_without_a_usable_value_is_a_400_naming_it(client_for, viewer, path, params, field):
    response = client_for(viewer).get(path, params)

    assert response.status_code == 400
    assert field in response.json()


def test_a_filter_left_out_still_means_any(client_for, viewer):
    assert client_for(viewer).get("/api/sources/").status_code == 200


def test_a_page_size_above_the_maximum_is_the_maximum(client_for, viewer):
    assert client_for(viewer).get("/api/mentions/", {"page_size": "5000"}).status_code == 200


def test_every_member_operation_documents_401_403_and_the_lockout(openapi):
    for path, operations in openapi["paths"].items():
        if path.endswith("/webhook/"):  # the HMAC is its credential; it documents its own statuses
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), f"{method} {path}"
            assert "WWW-Authenticate" in responses["401"]["headers"]
            assert "Retry-After" in responses["429"]["headers"]
            if "{" in path:
                assert "404" in responses, f"{method} {path}"
            if method in ("post", "patch"):
                assert "400" in responses, f"{method} {path}"


def test_a_view_documented_status_keeps_its_own_description(openapi):
    delete = openapi["paths"]["/api/rules/{id}/"]["delete"]["responses"]
    acknowledge = openapi["paths"]["/api/incidents/{id}/acknowledge/"]["post"]["responses"]

    assert delete["409"]["description"].startswith("The rule has fired before")
    assert "409" in acknowledge


def test_filters_are_documented_as_what_they_accept(openapi):
    parameters = {
        parameter["name"]: parameter["schema"]
        for parameter in openapi["paths"]["/api/mentions/"]["get"]["parameters"]
    }
    assert parameters["watch"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["published_after"] == {"type": "string", "format": "date-time"}
    assert parameters["language"] == {"type": "string", "maxLength": 8}
