import { Topology } from './topology';
import { describeDurability } from '../src/kafka/topics';

/** The topology as text: topics, then who reads and writes what. */
export function describeTopology(t: Topology): string {
  const lines: string[] = ['Topics:'];
  const width = Math.max(...t.topics.map((x) => x.name.length));
  for (const topic of t.topics) {
    const kept = topic.retentionMs < 0 ? 'forever' : `${(topic.retentionMs / 86_400_000).toFixed(0)}d`;
    lines.push(
      `  ${topic.name.padEnd(width)}  ${String(topic.partitions).padStart(2)} partitions  ${describeDurability(topic.durability)}  ${topic.cleanupPolicy}, ${kept}  key=${topic.keyedBy}  value=${topic.schema}`,
    );
  }
  lines.push(
    '',
    'Producers:',
    '  flatfile, ws  -->  equity.trades, equity.quotes, option.trades, option.quotes  (+ *.dlq)',
    '  rates fetch|import  -->  rates.treasury',
    '',
    'Processors:',
  );
  for (const p of t.processors) {
    const tables = p.tables.length > 0 ? [`    tables (read whole by every member): ${p.tables.join(', ')}`] : [];
    lines.push(`  ${p.name}  (group ${p.consumerGroup})`, `    ${p.inputs.join(', ')}`, ...tables, `      --> ${p.outputs.join(', ')}`, `    ${p.description}`);
  }
  lines.push('', 'Sinks:');
  for (const s of t.sinks) lines.push(`  ${s.topic}  -->  ${s.name}  (group ${s.consumerGroup}; partitions ${s.partitionBy.join('/')})`);
  return `${lines.join('\n')}\n`;
}
