/**
 * The path the gateway routes on and forwards: the request target with its dot-segments resolved
 * (RFC 3986 §5.2.4), `%2e` counting as a dot as WHATWG URL parsers count it. Deciding on the raw
 * target and forwarding a normalised one let `/api/orders/../../internal/stats` reach a service's
 * internal routes (issue 21, finding 2).
 *
 * Refused (400): a target that is not a path (absolute-form, `*`); a backslash or an encoded slash
 * or backslash (`%2f`, `%5c`), which URL parsers turn into separators or not depending on who
 * parses (no route of this project has one in a segment); a `#`; a control character or an
 * encoded NUL. Double encoding (`%252e`) is left as it is: one decoding makes it the text `%2e`, a
 * segment like any other.
 */
export type RequestPath = { ok: true; path: string; query: string } | { ok: false; reason: string };

const SEPARATOR_LOOKALIKES = /\\|%2f|%5c|%00|#|[\u0000-\u001f\u007f]/i;

export function normaliseRequestPath(target: string): RequestPath {
  if (!target.startsWith('/')) return { ok: false, reason: 'The request target must be a path' };
  const q = target.indexOf('?');
  const raw = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? '' : target.slice(q);
  if (SEPARATOR_LOOKALIKES.test(raw)) return { ok: false, reason: 'The path has a backslash, an encoded slash or a control character' };
  const out: string[] = [];
  const segments = raw.slice(1).split('/');
  segments.forEach((segment, i) => {
    const dots = segment.replace(/%2e/gi, '.');
    const last = i === segments.length - 1;
    if (dots === '.' || dots === '..') {
      if (dots === '..') out.pop();
      if (last) out.push(''); // `/a/b/..` is `/a/`
      return;
    }
    out.push(segment);
  });
  return { ok: true, path: '/' + out.join('/'), query };
}
