"""Every Radar method bgpsentry implements, through the official Python SDK
(`cloudflare` from PyPI) in strict response validation mode, against a
`bgpsentry serve` over the YouTube 2008 store. Run by
scripts/check-radar-sdk.sh; exits non-zero on the first failure."""

import sys

import cloudflare
from cloudflare import Cloudflare
from cloudflare.types.radar.bgp.hijacks.event_list_response import EventListResponse
from cloudflare.types.radar.bgp.leaks.event_list_response import (
    EventListResponse as LeakListResponse,
)

base, token = sys.argv[1], sys.argv[2]
client = Cloudflare(
    api_token=token,
    base_url=base + "/client/v4",
    _strict_response_validation=True,
    max_retries=0,
)
checks = 0


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        print(f"FAIL {name} {detail}")
        sys.exit(1)
    print(f"ok   {name}")


def raises(name, exc, fn):
    try:
        fn()
    except exc as e:
        check(name, True)
        return e
    except Exception as e:  # noqa: BLE001
        check(name, False, f"raised {type(e).__name__}: {e}")
    check(name, False, "did not raise")


# Event lists: the pager type parses; the events are validated against the
# SDK's own list models (strictly: every field required, types checked).
page = client.radar.bgp.hijacks.events.list(per_page=5, sort_by="ID", sort_order="ASC")
check("hijacks.events.list result_info", page.result_info.per_page == 5 and page.result_info.total_count > 0)
raw = client.radar.bgp.hijacks.events.with_raw_response.list(per_page=5).http_response.json()
hij = EventListResponse.model_validate(raw["result"], strict=True)
check("hijacks.events.list EventListResponse (strict)", len(hij.events) == 5 and hij.total_monitors > 0)
check("hijacks auto-pager reads result.items: no items", list(page) == [])
p2 = client.radar.bgp.hijacks.events.list(per_page=5, page=2, sort_by="ID", sort_order="ASC")
raw2 = client.radar.bgp.hijacks.events.with_raw_response.list(per_page=5, page=2, sort_by="ID", sort_order="ASC").http_response.json()
ids1 = [e["id"] for e in client.radar.bgp.hijacks.events.with_raw_response.list(per_page=5, page=1, sort_by="ID", sort_order="ASC").http_response.json()["result"]["events"]]
ids2 = [e["id"] for e in raw2["result"]["events"]]
check("paging by hand: page 2 follows page 1", p2.result_info.page == 2 and ids1 and ids2 and max(ids1) < min(ids2), f"{ids1} {ids2}")
for dr in ["3d", "7d", "3dcontrol", "7dcontrol", "28dcontrol"]:
    client.radar.bgp.hijacks.events.list(date_range=dr, per_page=1)
check("hijacks.events.list dateRange incl. control windows", True)
hit = EventListResponse.model_validate(
    client.radar.bgp.hijacks.events.with_raw_response.list(involved_asn=36561, min_confidence=8).http_response.json()["result"], strict=True
)
check("hijacks involvedAsn=36561 minConfidence=8: AS17557", any(e.hijacker_asn == 17557 for e in hij.events + hit.events))
lk = client.radar.bgp.leaks.events.list(per_page=5)
raw = client.radar.bgp.leaks.events.with_raw_response.list(per_page=5).http_response.json()
LeakListResponse.model_validate(raw["result"], strict=True)
check("leaks.events.list LeakListResponse (strict)", lk.result_info is not None)
csv = client.radar.bgp.hijacks.events.with_raw_response.list(per_page=2, format="CSV")
check("format=CSV through with_raw_response: text/csv", csv.headers["content-type"].startswith("text/csv") and csv.text().startswith("id,confidence_score,"))

# Routing state.
r = client.radar.bgp.routes.pfx2as(prefix="208.65.152.0/22")
check("routes.pfx2as 208.65.152.0/22 -> AS36561", [o.origin for o in r.prefix_origins] == [36561], r)
r = client.radar.bgp.routes.pfx2as(prefix="208.65.153.238/32", longest_prefix_match=True)
check("routes.pfx2as longestPrefixMatch", {o.prefix for o in r.prefix_origins} == {"208.65.153.0/24"}, r)
r = client.radar.bgp.routes.pfx2as(origin=36561, rpki_status="UNKNOWN")
check("routes.pfx2as origin + rpkiStatus", len(r.prefix_origins) >= 2)
m = client.radar.bgp.routes.moas(prefix="208.65.153.0/24")
check("routes.moas 208.65.153.0/24: 17557 and 36561", [o.origin for o in m.moas[0].origins] == [17557, 36561], m)
m = client.radar.bgp.routes.moas(origin=17557, invalid_only=False)
check("routes.moas origin", len(m.moas) >= 1)
s = client.radar.bgp.routes.stats()
check("routes.stats", s.stats.routes_total > 200000 and s.meta.total_peers > 0)
s = client.radar.bgp.routes.stats(asn=36561, location="US")
check("routes.stats asn + location", s.stats.routes_total >= 2)
a = client.radar.bgp.routes.ases(limit=5, sort_by="pfxs", sort_order="DESC", location="US")
check("routes.ases", len(a.asns) == 5 and a.asns[0].pfxs_count >= a.asns[1].pfxs_count)

# Entities.
e = client.radar.entities.asns.get(36561)
check("entities.asns.get 36561", e.asn.name == "YOUTUBE" and e.asn.org_name == "YouTube, Inc." and e.asn.source == "ARIN", e)
l = client.radar.entities.asns.list(asn="36561,17557", limit=10, offset=0, order_by="ASN")
check("entities.asns.list", [x.asn for x in l.asns] == [17557, 36561], l)
l = client.radar.entities.asns.list(location="PK", limit=3)
check("entities.asns.list location", all(x.country == "PK" for x in l.asns) and len(l.asns) == 3)
rel = client.radar.entities.asns.rel(17557)
check("entities.asns.rel", len(rel.rels) > 0 and all(x.asn1 == 17557 for x in rel.rels))
rel = client.radar.entities.asns.rel(17557, asn2=rel.rels[0].asn2)
check("entities.asns.rel asn2", len(rel.rels) == 1)

# Typed errors.
e = raises("400 -> BadRequestError", cloudflare.BadRequestError, lambda: client.radar.bgp.routes.pfx2as())
check("400 names the parameter", "prefix" in str(e))
raises("400 (bad dateRange) -> BadRequestError", cloudflare.BadRequestError, lambda: client.radar.bgp.hijacks.events.list(date_range="7x"))
raises("404 -> NotFoundError", cloudflare.NotFoundError, lambda: client.radar.entities.asns.get(4199999999))
bad = Cloudflare(api_token="wrong-token", base_url=base + "/client/v4", _strict_response_validation=True, max_retries=0)
raises("401 -> AuthenticationError", cloudflare.AuthenticationError, lambda: bad.radar.bgp.routes.stats())

print(f"python SDK {cloudflare.__version__}: {checks} checks passed")
