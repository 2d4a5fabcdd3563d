import { loadConfig } from '../../../src/config';
import { buildTopology, Topology } from '../../../topology/topology';

export function testTopology(): Topology {
  return buildTopology(loadConfig({ env: { NODE_ENV: 'test' } }));
}
