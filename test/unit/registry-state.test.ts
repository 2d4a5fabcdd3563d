import { canonicalSchema, isCompatible, RegistryState } from '../../src/registry/state';

const rec = (fields: object[]) => JSON.stringify({ type: 'record', name: 'R', fields });

describe('registry state', () => {
  it('assigns global ids, reuses them for identical schemas across subjects, versions per subject', () => {
    const s = new RegistryState();
    const plan = (subject: string, schema: string) => {
      const p = s.planRegistration(subject, schema);
      if ('existing' in p) return p.existing.id;
      s.apply(p.event);
      return (p.event as { id: number }).id;
    };
    const a = rec([{ name: 'a', type: 'int' }]);
    expect(plan('x-value', a)).toBe(1);
    expect(plan('y-value', a)).toBe(1);
    expect(plan('x-value', rec([{ name: 'a', type: 'int' }, { name: 'b', type: 'int', default: 0 }]))).toBe(2);
    expect(s.versions('x-value').map((v) => v.version)).toEqual([1, 2]);
    expect(s.version('y-value', 'latest').version).toBe(1);
  });

  it('BACKWARD: the new schema must read data written with the previous one', () => {
    const v1 = rec([{ name: 'a', type: 'int' }]);
    expect(isCompatible('BACKWARD', rec([{ name: 'a', type: 'long' }]), [v1])).toBe(true); // int promotes to long
    expect(isCompatible('BACKWARD', rec([{ name: 'a', type: 'int' }, { name: 'n', type: 'string' }]), [v1])).toBe(false);
    expect(isCompatible('BACKWARD', rec([]), [v1])).toBe(true); // dropping a field is backward compatible
    expect(isCompatible('FORWARD', rec([]), [v1])).toBe(false);
    expect(isCompatible('NONE', rec([{ name: 'a', type: 'string' }]), [v1])).toBe(true);
  });

  it('canonical form ignores whitespace and key order', () => {
    expect(canonicalSchema('{"type":"record","name":"R","fields":[]}')).toBe(canonicalSchema('{ "name": "R", "fields": [], "type": "record" }'));
  });
});
