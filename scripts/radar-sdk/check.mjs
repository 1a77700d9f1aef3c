// Every Radar method bgpsentry implements, through the official TypeScript
// SDK (`cloudflare` from npm) against `bgpsentry serve` over the YouTube
// 2008 store. The TypeScript SDK does not validate responses at run time,
// so this checks the fields of each response model (types and presence)
// itself. Run by scripts/check-radar-sdk.sh.
import Cloudflare from 'cloudflare';

const [base, token] = process.argv.slice(2);
const client = new Cloudflare({ apiToken: token, baseURL: `${base}/client/v4`, maxRetries: 0 });
let checks = 0;
function check(name, cond, detail = '') {
  checks += 1;
  if (!cond) {
    console.log(`FAIL ${name} ${detail}`);
    process.exit(1);
  }
  console.log(`ok   ${name}`);
}
function shape(name, obj, fields) {
  for (const [k, t] of Object.entries(fields)) {
    const v = obj?.[k];
    const ok = t === 'array' ? Array.isArray(v) : typeof v === t;
    check(`${name}.${k}: ${t}`, ok, JSON.stringify(obj)?.slice(0, 300));
  }
}
async function raises(name, cls, fn) {
  try {
    await fn();
  } catch (e) {
    check(name, e instanceof cls, `${e?.constructor?.name}: ${e}`);
    return e;
  }
  check(name, false, 'did not raise');
}

const meta = { data_time: 'string', query_time: 'string', total_peers: 'number' };
const page = await client.radar.bgp.hijacks.events.list({ per_page: 5 });
check('hijacks.events.list auto-pager reads result.items: no items', page.getPaginatedItems().length === 0);
shape('hijacks result', page.result, { events: 'array', asn_info: 'array', total_monitors: 'number' });
shape('hijacks event', page.result.events[0], {
  id: 'number', confidence_score: 'number', duration: 'number', event_type: 'number', hijack_msgs_count: 'number',
  hijacker_asn: 'number', hijacker_country: 'string', is_stale: 'boolean', max_hijack_ts: 'string', max_msg_ts: 'string',
  min_hijack_ts: 'string', on_going_count: 'number', peer_asns: 'array', peer_ip_count: 'number', prefixes: 'array',
  tags: 'array', victim_asns: 'array', victim_countries: 'array',
});
shape('hijacks result_info', page.result_info, { count: 'number', page: 'number', per_page: 'number', total_count: 'number' });
const leaks = await client.radar.bgp.leaks.events.list({ per_page: 5, dateRange: '7dcontrol' });
shape('leaks result', leaks.result, { events: 'array', asn_info: 'array' });

const p = await client.radar.bgp.routes.pfx2as({ prefix: '208.65.152.0/22' });
shape('pfx2as meta', p.meta, meta);
shape('pfx2as origin', p.prefix_origins[0], { origin: 'number', peer_count: 'number', prefix: 'string', rpki_validation: 'string' });
check('pfx2as 208.65.152.0/22 -> AS36561', p.prefix_origins[0].origin === 36561);
const m = await client.radar.bgp.routes.moas({ prefix: '208.65.153.0/24' });
shape('moas meta', m.meta, meta);
check('moas 208.65.153.0/24: 17557 and 36561', JSON.stringify(m.moas[0].origins.map((o) => o.origin)) === '[17557,36561]');
shape('moas origin', m.moas[0].origins[0], { origin: 'number', peer_count: 'number', rpki_validation: 'string' });
const s = await client.radar.bgp.routes.stats({ asn: 36561 });
shape('stats meta', s.meta, meta);
shape('stats', s.stats, { distinct_origins: 'number', distinct_prefixes_ipv4: 'number', routes_total: 'number', routes_unknown_ipv6: 'number', routes_valid: 'number' });
const a = await client.radar.bgp.routes.ases({ limit: 3, sortBy: 'cone' });
shape('ases meta', a.meta, { dataTime: 'string', queryTime: 'string', totalPeers: 'number' });
shape('ases asn', a.asns[0], { asn: 'number', coneSize: 'number', country: 'string', ipv4Count: 'number', ipv6Count: 'string', name: 'string', pfxsCount: 'number', rpkiInvalid: 'number', rpkiUnknown: 'number', rpkiValid: 'number' });
const e = await client.radar.entities.asns.get(36561);
shape('entities.asns.get', e.asn, { asn: 'number', confidenceLevel: 'number', country: 'string', countryName: 'string', estimatedUsers: 'object', name: 'string', orgName: 'string', related: 'array', source: 'string', website: 'string' });
const l = await client.radar.entities.asns.list({ asn: '36561,17557' });
shape('entities.asns.list asn', l.asns[0], { asn: 'number', country: 'string', countryName: 'string', estimatedUsers: 'object', name: 'string' });
const r = await client.radar.entities.asns.rel(17557);
shape('entities.asns.rel meta', r.meta, meta);
shape('entities.asns.rel rel', r.rels[0], { asn1: 'number', asn1_country: 'string', asn1_name: 'string', asn2: 'number', asn2_country: 'string', asn2_name: 'string', rel: 'string' });

await raises('400 -> BadRequestError', Cloudflare.BadRequestError, () => client.radar.bgp.routes.pfx2as({}));
await raises('404 -> NotFoundError', Cloudflare.NotFoundError, () => client.radar.entities.asns.get(4199999999));
const bad = new Cloudflare({ apiToken: 'wrong-token', baseURL: `${base}/client/v4`, maxRetries: 0 });
await raises('401 -> AuthenticationError', Cloudflare.AuthenticationError, () => bad.radar.bgp.routes.stats());
console.log(`typescript SDK: ${checks} checks passed`);
