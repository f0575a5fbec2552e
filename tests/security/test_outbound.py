"""The outbound guard (crisisdesk/outbound.py): no request CrisisDesk makes reaches loopback, private,
link-local or metadata addresses — checked on the resolved address at connect time, after
redirects, and when a URL is configured — unless ``OUTBOUND_ALLOWED_NETWORKS`` allows it.

Every server here is one the test starts on a loopback address; names are resolved by patching
``socket.getaddrinfo`` (the resolver's edge) for the invented names only.
"""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time
from unittest import mock

import httpx
import pytest
from django.core.exceptions import ValidationError

from crisisdesk import outbound
from incidents.models import DeliveryStatus, Incident, NotificationDelivery
from incidents.notifications.channels import CHANNELS
from incidents.notifications.channels import PermanentError as DeliveryPermanentError
from incidents.notifications.forms import ChannelForm
from incidents.signals import incident_event
from incidents.tasks import deliver_notification
from monitoring.intake.polling import poll_source
from monitoring.models import SourceHealth
from monitoring.setup.services import source_create
from monitoring.sources import PermanentError, get_connector, http
from tests.factories import IncidentFactory, SourceFactory, WatchFactory
from tests.incidents.notifications.receiver import make_channel
from tests.security.servers import serve

_real_getaddrinfo = socket.getaddrinfo


def fake_dns(answers: dict[str, list[str]]):
    """Patch the resolver's edge: each invented name answers its addresses in turn (the last one
    repeats); every other name — and the literal addresses httpcore connects to — resolves as usual."""
    calls: dict[str, int] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return _real_getaddrinfo(host, port, *args, **kwargs)
        calls[host] = calls.get(host, 0) + 1
        address = answers[host][min(calls[host], len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]

    patcher = mock.patch("socket.getaddrinfo", getaddrinfo)
    patcher.calls = calls
    return patcher


@pytest.fixture
def nothing_allowed(settings):
    """Production's default: no network is exempt."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []


@pytest.fixture
def server():
    started = serve((200, {"Content-Type": "text/plain"}, b"inside"))
    yield started
    started.close()


def get(url: str, **kwargs) -> httpx.Response:
    with outbound.client(**kwargs) as client:
        return client.get(url)


# --- The rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.10.20", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "a cloud metadata endpoint"),
        ("fd00:ec2::254", "a cloud metadata endpoint"),
        ("100.100.100.200", "a cloud metadata endpoint"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6 reaches the IPv4 address
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "a cloud metadata endpoint"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "private"),  # Python counts the reserved class E private too
        ("4000::1", "reserved"),
        ("198.18.0.1", "private"),  # benchmarking range: Python counts it private
    ],
)
def test_non_public_addresses_are_refused(nothing_allowed, address, reason):
    assert outbound.refusal(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are_allowed(nothing_allowed, address):
    assert outbound.refusal(ipaddress.ip_address(address)) is None


def test_the_allow_setting_lifts_the_refusal_for_its_networks_only(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.20.0.0/16"]
    assert outbound.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert outbound.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None
    assert outbound.refusal(ipaddress.ip_address("10.20.30.40")) is None
    assert outbound.refusal(ipaddress.ip_address("127.0.0.2")) == "loopback"
    assert outbound.refusal(ipaddress.ip_address("10.21.0.1")) == "private"


def test_metadata_endpoints_stay_refused_inside_an_allowed_network(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["169.254.0.0/16", "fd00::/8"]
    assert outbound.refusal(ipaddress.ip_address("169.254.10.20")) is None
    assert outbound.refusal(ipaddress.ip_address("169.254.169.254")) == "a cloud metadata endpoint"
    assert outbound.refusal(ipaddress.ip_address("fd00:ec2::254")) == "a cloud metadata endpoint"


# --- At connect time ------------------------------------------------------------------------------


def test_a_request_to_loopback_is_refused_before_it_is_sent(nothing_allowed, server):
    with pytest.raises(outbound.OutboundRefused, match=r"refused: the address is loopback \(127\.0\.0\.1\)"):
        get(server.url + "/admin/")
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://localhost/", "http://[::ffff:7f00:1]/"],
)
def test_odd_spellings_of_loopback_are_judged_by_the_address_they_reach(nothing_allowed, url):
    with pytest.raises(outbound.OutboundRefused, match=r"refused: the address is loopback"):
        get(url)
    assert "loopback" in outbound.url_refusal(url)


def test_the_allow_setting_lets_a_request_reach_loopback(settings, server):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    response = get(server.url + "/admin/")
    assert response.status_code == 200 and response.text == "inside"
    assert [seen.path for seen in server.requests] == ["/admin/"]


def test_a_public_name_resolving_to_a_private_address_is_refused(nothing_allowed, server):
    with fake_dns({"feeds.example.com": ["10.0.0.7"]}), pytest.raises(outbound.OutboundRefused) as refused:
        get("http://feeds.example.com/rss")
    assert str(refused.value) == "refused: the address is private (feeds.example.com → 10.0.0.7)"


def test_a_name_with_one_private_answer_among_public_ones_is_refused(nothing_allowed):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("1.1.1.1", "127.0.0.1")]

    with (
        mock.patch("socket.getaddrinfo", getaddrinfo),
        pytest.raises(outbound.OutboundRefused, match="loopback"),
    ):
        get("http://mixed.example.com/")


def test_a_redirect_to_loopback_is_refused(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]  # the "public" host; 127.0.0.1 stays refused
    private = serve((200, {}, b"secret"))
    public = serve((302, {"Location": f"{private.url}/admin/"}, b""), host="127.0.0.2")
    try:
        with pytest.raises(outbound.OutboundRefused, match=r"loopback \(127\.0\.0\.1\)"):
            get(public.url + "/feed")
        assert [seen.path for seen in public.requests] == ["/feed"]
        assert private.requests == []
    finally:
        public.close()
        private.close()


def test_dns_rebinding_cannot_reach_the_private_address(settings):
    """The name answers an allowed address first and a private one after: the connection goes to
    the address that was checked, never to a second answer (and keeps the name's Host header)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.2/32"]
    public = serve((200, {}, b"public"), host="127.0.0.2")
    try:
        private = serve((200, {}, b"private"), port=public.port)  # 127.0.0.1, the same port
    except OSError:
        public.close()
        pytest.skip("the port is taken on 127.0.0.1")
    dns = fake_dns({"rebind.example.com": ["127.0.0.2", "127.0.0.1"]})
    try:
        with dns:
            response = get(f"http://rebind.example.com:{public.port}/")
        assert response.text == "public"
        assert dns.calls["rebind.example.com"] == 1  # checked once, connected to what was checked
        assert public.requests[0].headers["Host"] == f"rebind.example.com:{public.port}"
        assert private.requests == []
        with dns, pytest.raises(outbound.OutboundRefused):  # the next lookup answers 127.0.0.1: refused
            get(f"http://rebind.example.com:{public.port}/")
        assert private.requests == []
    finally:
        public.close()
        private.close()


def test_environment_proxies_cannot_route_around_the_check(settings, server, monkeypatch):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    assert get(server.url + "/direct").text == "inside"


# --- Bounded answers ------------------------------------------------------------------------------


def test_a_body_larger_than_the_limit_is_refused(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    big = serve((200, {}, b"x" * 300_000))
    try:
        with pytest.raises(outbound.ResponseTooLarge):
            get(big.url, max_bytes=100_000)
        assert len(get(big.url, max_bytes=400_000).content) == 300_000
    finally:
        big.close()


def test_a_compressed_body_is_bounded_after_decompression(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    bomb = gzip.compress(b"\0" * 5_000_000)  # ~5 KB on the wire
    server = serve((200, {"Content-Encoding": "gzip"}, bomb))
    try:
        with pytest.raises(outbound.ResponseTooLarge):
            get(server.url, max_bytes=1_000_000)
    finally:
        server.close()


def test_a_server_dripping_its_answer_is_cut_off_at_the_deadline(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]

    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        for _ in range(100):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(0.05)

    server = serve(drip)
    try:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            get(server.url, deadline=0.5)
        assert time.monotonic() - started < 3
    finally:
        server.close()


# --- Config time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/admin/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/",
        "https://10.1.2.3/hook",
    ],
)
def test_a_literal_private_url_is_refused_at_config_time(nothing_allowed, url):
    problem = outbound.url_refusal(url)
    assert problem is not None and problem.startswith("Refused: the address is ")
    assert problem.endswith("CrisisDesk connects only to public addresses.")


def test_config_time_judges_a_name_by_what_it_resolves_to(nothing_allowed):
    with fake_dns({"intranet.example.com": ["192.168.7.7"], "public.example.com": ["93.184.215.14"]}):
        assert "private (intranet.example.com → 192.168.7.7)" in outbound.url_refusal(
            "https://intranet.example.com/feed"
        )
        assert outbound.url_refusal("https://public.example.com/feed") is None


def test_a_name_that_does_not_resolve_now_is_left_to_the_connect_time_check(nothing_allowed):
    def unresolvable(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with mock.patch("socket.getaddrinfo", unresolvable):
        assert outbound.url_refusal("https://not-yet.example.com/feed") is None


def test_the_rss_source_form_refuses_a_private_feed_url(nothing_allowed, manager):
    watch = WatchFactory()
    with pytest.raises(ValidationError) as raised:
        source_create(
            watch=watch, by=manager, kind="rss", name="Local", config={"url": "http://127.0.0.1:8123/admin/"}
        )
    assert "loopback" in " ".join(raised.value.message_dict["url"])
    with fake_dns({"alerts.example.com": ["10.0.0.9"]}), pytest.raises(ValidationError) as raised:
        get_connector("rss").validate_config({"url": "https://alerts.example.com/feed"})
    assert "private" in " ".join(raised.value.message_dict["url"])


def test_connector_base_urls_are_refused_at_config_time(nothing_allowed):
    with pytest.raises(ValidationError) as raised:
        get_connector("mastodon").validate_config({"instances": "http://192.168.0.10", "tags": "acme"})
    assert "private" in " ".join(raised.value.message_dict["instances"])
    with pytest.raises(ValidationError) as raised:
        get_connector("hackernews").validate_config({"query": "acme", "base_url": "http://169.254.169.254"})
    assert "metadata" in " ".join(raised.value.message_dict["base_url"])


@pytest.mark.django_db
def test_the_channel_form_refuses_a_private_webhook(nothing_allowed):
    form = ChannelForm(
        {"name": "Intranet", "kind": "webhook", "url": "http://10.0.0.5/hook", "min_severity": 4, "tier": 1}
    )
    assert not form.is_valid()
    assert "private" in form.errors["url"][0]
    assert CHANNELS["slack"].validate_config({"url": "https://hooks.slack.com/services/T/B/X"})["url"]


# --- The callers: sources and notifications -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["rss", "hackernews"])
def test_a_source_polling_a_private_address_fails_permanently_and_says_why(
    nothing_allowed, recorded_server, kind
):
    # Stored without the form (a factory, an old row): the poll refuses it, before any request.
    config = (
        {"url": recorded_server.url + "/admin/"}
        if kind == "rss"
        else {"query": "acme", "base_url": recorded_server.url}
    )
    source = SourceFactory(kind=kind, config=config, poll_interval=60)
    outcome = poll_source(source_id=source.pk)
    source.refresh_from_db()
    assert outcome.status == "permanent"
    assert source.health == SourceHealth.FAILING
    assert "efused: the address is loopback (127.0.0.1)" in source.last_error
    assert recorded_server.requests == []


def test_a_fetch_refused_at_connect_time_is_a_permanent_source_error(nothing_allowed, recorded_server):
    with (
        http.http_client() as client,
        pytest.raises(PermanentError, match=r"^feed: refused: the address is loopback"),
    ):
        http.request(client, "GET", recorded_server.url + "/admin/", what="feed")
    assert recorded_server.requests == []


@pytest.mark.django_db
def test_a_webhook_on_a_private_address_fails_the_delivery_permanently(nothing_allowed):
    receiver = serve((200, {}, b"ok"))
    try:
        channel = make_channel(kind="webhook", url=receiver.url + "/hook")
        with pytest.raises(DeliveryPermanentError, match="refused: the address is loopback"):
            CHANNELS["webhook"].send(channel=channel, payload={"incident": {}, "event_label": "x"})
        incident = IncidentFactory(watch=WatchFactory(name="Acme Air"))
        incident_event.send(sender=Incident, incident=incident, event="opened", actor=None)
        delivery = NotificationDelivery.objects.get(channel=channel, incident=incident)
        deliver_notification(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
        assert "refused: the address is loopback (127.0.0.1)" in delivery.last_error
        assert receiver.requests == []
    finally:
        receiver.close()
