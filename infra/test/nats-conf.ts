/**
 * Reads the few settings the cluster checks need from a nats-server config file: top-level
 * `key: value` pairs, `name { ... }` blocks, and `routes [ ... ]` lists. Not a full parser of the
 * NATS config format (no includes, no nested maps beyond one level of blocks).
 */

export interface NatsConf {
  settings: Record<string, string>;
  blocks: Record<string, NatsConf>;
  lists: Record<string, string[]>;
}

const unquote = (value: string): string => value.replace(/^(["'])(.*)\1$/, '$2');

export function parseNatsConf(text: string): NatsConf {
  const withoutComments = text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)(#|\/\/).*$/, ''))
    .join('\n');
  return parseBody(withoutComments);
}

function parseBody(body: string): NatsConf {
  const conf: NatsConf = { settings: {}, blocks: {}, lists: {} };
  let rest = body;
  const blockStart = /(\w+)\s*[:=]?\s*\{/;
  for (let match = blockStart.exec(rest); match; match = blockStart.exec(rest)) {
    const open = match.index + match[0].length;
    let depth = 1;
    let close = open;
    for (; close < rest.length && depth > 0; close += 1) {
      if (rest[close] === '{') depth += 1;
      if (rest[close] === '}') depth -= 1;
    }
    if (depth !== 0) throw new Error(`unclosed block "${match[1]}" in nats config`);
    conf.blocks[match[1]] = parseBody(rest.slice(open, close - 1));
    rest = rest.slice(0, match.index) + rest.slice(close);
  }
  rest = rest.replace(/(\w+)\s*[:=]?\s*\[([^\]]*)\]/g, (_all, key: string, items: string) => {
    conf.lists[key] = items
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(unquote);
    return '';
  });
  for (const line of rest.split(/\r?\n|,/)) {
    const setting = /^\s*(\w+)\s*[:=]?\s*(\S.*?)\s*;?\s*$/.exec(line);
    if (setting) conf.settings[setting[1]] = unquote(setting[2]);
  }
  return conf;
}
