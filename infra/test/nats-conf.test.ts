import { parseNatsConf } from './nats-conf';

describe('parseNatsConf', () => {
  it('reads top-level settings, blocks and lists, ignoring comments', () => {
    const conf = parseNatsConf(`
      # a comment: port: 1
      server_name: $POD_NAME
      port = 4222
      http_port: 8222 // trailing comment
      jetstream {
        store_dir: "/data/jetstream"
      }
      cluster {
        name: c1
        port: 6222
        routes [
          nats://a:6222
          nats://b:6222, nats://c:6222
        ]
      }
    `);
    expect(conf.settings).toEqual({ server_name: '$POD_NAME', port: '4222', http_port: '8222' });
    expect(conf.blocks.jetstream.settings).toEqual({ store_dir: '/data/jetstream' });
    expect(conf.blocks.cluster.settings).toEqual({ name: 'c1', port: '6222' });
    expect(conf.blocks.cluster.lists.routes).toEqual(['nats://a:6222', 'nats://b:6222', 'nats://c:6222']);
  });
});
