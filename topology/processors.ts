import { ProcessorDefinition } from '../src/processors/runtime/types';
import { features } from '../src/processors/features';
import { greeks } from '../src/processors/greeks';
import { tradeCounts } from '../src/processors/trade-counts';

/** Every processor of the topology. A new processor is one file in src/processors plus one entry here. */
export const PROCESSORS: ProcessorDefinition[] = [greeks, features, tradeCounts];

export function processorByName(name: string): ProcessorDefinition {
  const found = PROCESSORS.find((p) => p.name === name);
  if (!found) throw new Error(`unknown processor '${name}'; one of: ${PROCESSORS.map((p) => p.name).join(', ')}`);
  return found;
}
