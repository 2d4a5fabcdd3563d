import { servesStack } from '../../../src/stack/stack';

/** Command lines as /proc shows them for the stack's processes (a checkout in /work/a, another in /work/b). */
const kafkaOf = (home: string) =>
  `java -Xmx768m -Dlog4j.configuration=file:${home}/stack/kafka/log4j.properties -cp ${home}/jars/kafka-4.4.0/libs/* kafka.Kafka ${home}/stack/kafka/server.properties`;
const s3Of = (home: string) =>
  `java -Xmx384m -cp ${home}/jars/s3mock-3.12.0/libs/* com.adobe.testing.s3mock.S3MockApplication --com.adobe.testing.s3mock.store.root=${home}/stack/s3/data`;
const registryOf = (home: string) => `${home}/node/node_modules/node/bin/node /work/b/bin/optflow.js registry serve --port 18081 --stack-dir ${home}/stack/registry`;

describe('servesStack: whose process serves a stack port', () => {
  it("takes a broker, S3 server or registry started from this home's state dir for this stack's", () => {
    expect(servesStack('kafka', kafkaOf('/work/a/.optflow'), '/work/a/.optflow/stack')).toBe(true);
    expect(servesStack('s3', s3Of('/work/a/.optflow'), '/work/a/.optflow/stack')).toBe(true);
    expect(servesStack('registry', registryOf('/work/a/.optflow'), '/work/a/.optflow/stack')).toBe(true);
  });

  it("does not take another home's broker or S3 server on the same ports for this stack's", () => {
    expect(servesStack('kafka', kafkaOf('/work/b/.optflow'), '/work/a/.optflow/stack')).toBe(false);
    expect(servesStack('s3', s3Of('/work/b/.optflow'), '/work/a/.optflow/stack')).toBe(false);
    expect(servesStack('registry', registryOf('/work/b/.optflow'), '/work/a/.optflow/stack')).toBe(false);
    // A home whose path merely starts with this one's name is another home.
    expect(servesStack('kafka', kafkaOf('/work/a/.optflow2'), '/work/a/.optflow/stack')).toBe(false);
  });

  it("needs the service's own process: a broker is not a registry", () => {
    expect(servesStack('registry', kafkaOf('/work/a/.optflow'), '/work/a/.optflow/stack')).toBe(false);
    expect(servesStack('kafka', s3Of('/work/a/.optflow'), '/work/a/.optflow/stack')).toBe(false);
  });

  it('does not take a registry started by hand, which names no stack', () => {
    expect(servesStack('registry', '/usr/bin/node /work/a/bin/optflow.js registry serve --port 18081', '/work/a/.optflow/stack')).toBe(false);
  });
});
