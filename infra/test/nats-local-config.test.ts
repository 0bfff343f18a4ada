/**
 * The local NATS cluster (`npm start -- --nats-nodes 3`, the e2e kit) runs the config of the
 * nats-config ConfigMap with only host names, ports and the store directory substituted. These
 * tests fail when the two drift: when the generator no longer finds what it substitutes, or when
 * the generated config differs from the deployed one in anything else.
 */
import { deployedNatsConfig, localNatsConfig, natsUsers, type NodeAddress } from '@ticketing/common/testing';
import { parseNatsConf, type NatsConf } from './nats-conf';

const nodes: NodeAddress[] = [
  { clientPort: 14222, clusterPort: 16222, monitorPort: 18222 },
  { clientPort: 14223, clusterPort: 16223, monitorPort: 18223 },
  { clientPort: 14224, clusterPort: 16224, monitorPort: 18224 },
];

/** A parsed config without the settings the local cluster substitutes. */
function withoutSubstituted(conf: NatsConf): NatsConf {
  const { port: _port, http_port: _httpPort, http: _http, host: _host, ...settings } = conf.settings;
  const blocks = { ...conf.blocks };
  if (blocks.jetstream) {
    const { store_dir: _storeDir, ...rest } = blocks.jetstream.settings;
    blocks.jetstream = { ...blocks.jetstream, settings: rest };
  }
  if (blocks.cluster) {
    const { port: _clusterPort, listen: _listen, ...rest } = blocks.cluster.settings;
    const { routes: _routes, ...lists } = blocks.cluster.lists;
    blocks.cluster = { ...blocks.cluster, settings: rest, lists };
  }
  return { ...conf, settings, blocks };
}

describe('the local NATS cluster config', () => {
  const deployedText = deployedNatsConfig();
  const deployed = parseNatsConf(deployedText);

  it.each([0, 1, 2])('for node %i of 3 is the deployed one with only addresses and the store substituted', (index) => {
    const text = localNatsConfig(deployedText, nodes, index, `/tmp/nats-${index}`);
    const local = parseNatsConf(text);
    expect(withoutSubstituted(local)).toEqual(withoutSubstituted(deployed));
    // Everything that is not substituted is the deployed text, line for line (permissions, users…).
    const untouched = (t: string) =>
      t.split('\n').filter((line) => !/^\s*(port|http_port|http|host|listen|store_dir):|nats:\/\//.test(line));
    expect(untouched(text)).toEqual(untouched(deployedText));

    expect(local.settings).toMatchObject({
      host: '127.0.0.1',
      port: String(nodes[index].clientPort),
      http: `127.0.0.1:${nodes[index].monitorPort}`,
    });
    expect(local.blocks.jetstream.settings.store_dir).toBe(`/tmp/nats-${index}`);
    expect(local.blocks.cluster.settings.listen).toBe(`127.0.0.1:${nodes[index].clusterPort}`);
    expect(local.blocks.cluster.lists.routes).toEqual(nodes.map((n) => `nats://127.0.0.1:${n.clusterPort}`));
  });

  it('routes through the addresses a test gives (its fault proxies), never its own route, and can hide the nodes from clients', () => {
    const network = { routeAddress: (from: number, to: number) => `127.0.0.1:${20000 + 10 * from + to}`, hideClientAddresses: true };
    const local = parseNatsConf(localNatsConfig(deployedText, nodes, 1, '/tmp/n', network));
    expect(local.blocks.cluster.lists.routes).toEqual([
      'nats://127.0.0.1:20010',
      `nats://127.0.0.1:${nodes[1].clusterPort}`,
      'nats://127.0.0.1:20012',
    ]);
    expect(local.blocks.cluster.settings.no_advertise).toBe('true');
    expect(parseNatsConf(localNatsConfig(deployedText, nodes, 1, '/tmp/n')).blocks.cluster.settings.no_advertise).toBeUndefined();
  });

  it('for a single node has no cluster block (a node waiting for peers would never lead JetStream)', () => {
    const local = parseNatsConf(localNatsConfig(deployedText, nodes.slice(0, 1), 0, '/tmp/n'));
    expect(local.blocks.cluster).toBeUndefined();
    const { cluster: _cluster, ...deployedBlocks } = withoutSubstituted(deployed).blocks;
    expect(withoutSubstituted(local).blocks).toEqual(deployedBlocks);
  });

  it('refuses to generate from a deployed config whose routes do not name one node each', () => {
    expect(() => localNatsConfig(deployedText, nodes.slice(0, 2), 0, '/tmp/n')).toThrow(/route per node/);
    const moved = deployedText.replace(/^http_port:.*$/m, 'monitor_port: 8222');
    expect(() => localNatsConfig(moved, nodes, 0, '/tmp/n')).toThrow(/monitoring port/);
  });

  it('finds the users whose passwords come from the environment', () => {
    expect(natsUsers(deployedText).map((u) => u.user)).toEqual(['tickets', 'orders', 'admin']);
  });
});
