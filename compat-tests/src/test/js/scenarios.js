// kafkajs (pure JavaScript) scenarios against a running Gregor broker.
// Usage: node scenarios.js BOOTSTRAP SCENARIO TOPIC_PREFIX
// Prints "PASS <scenario>: <details>" and exits 0, or prints the error and exits 1.
'use strict';
const { Kafka, logLevel, Partitioners } = require('kafkajs');

const [bootstrap, scenario, prefix] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'gregor-compat-kafkajs',
  brokers: [bootstrap],
  logLevel: logLevel.ERROR,
  connectionTimeout: 5000,
  requestTimeout: 15000,
  retry: { retries: 5 },
});
const DEADLINE_MS = 30000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function withDeadline(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Keyed records with a header; returns Map "partition:offset" -> "key=value" from the acks. */
async function produce(topic, count, options = {}) {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...options });
  await producer.connect();
  const produced = new Map();
  try {
    for (let i = 0; i < count; i++) {
      const [meta] = await producer.send({
        topic,
        messages: [{ key: `key-${i % 5}`, value: `value-${i}`, headers: { seq: `${i}` } }],
      });
      check(meta.errorCode === 0, `produce error ${meta.errorCode}`);
      produced.set(`${meta.partition}:${meta.baseOffset}`, `key-${i % 5}=value-${i}`);
    }
  } finally {
    await producer.disconnect();
  }
  check(produced.size === count, `${produced.size} distinct offsets for ${count} records`);
  return produced;
}

/**
 * Runs a group member until `enough(seen)`; commits exactly the records it recorded (autoCommit off)
 * and leaves. Returns Map "partition:offset" -> "key=value".
 */
async function consumeInGroup(groupId, topic, enough, clientId = 'gregor-compat-member') {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
  const seen = new Map();
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (enough(seen)) return; // fetched but not taken: must not be committed
        const id = `${partition}:${message.offset}`;
        check(!seen.has(id), `record ${id} delivered twice`);
        check(message.headers.seq.toString() === message.value.toString().split('-')[1], `header of ${id}`);
        seen.set(id, `${message.key}=${message.value}`);
        await consumer.commitOffsets([{ topic, partition, offset: `${Number(message.offset) + 1}` }]);
        if (enough(seen)) done();
      },
    });
    if (!enough(seen)) await withDeadline(finished, `group ${groupId} reading ${topic} (got ${seen.size})`);
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

const scenarios = {
  async produce() {
    const produced = await produce(`${prefix}-produce`, 20);
    const idempotent = await produce(`${prefix}-produce-idempotent`, 20, { idempotent: true, maxInFlightRequests: 1 });
    return `${produced.size} records acknowledged, ${idempotent.size} more by an idempotent producer`;
  },

  async 'group-commit-resume'() {
    const topic = `${prefix}-group`;
    const group = `${prefix}-group`;
    const produced = await produce(topic, 20);
    const first = await consumeInGroup(group, topic, (seen) => seen.size >= 8);
    const rest = new Map([...produced].filter(([id]) => !first.has(id)));
    const resumed = await consumeInGroup(group, topic, (seen) => seen.size >= rest.size);
    const expected = JSON.stringify([...rest].sort());
    check(JSON.stringify([...resumed].sort()) === expected,
      `resumed member read ${JSON.stringify([...resumed].sort())}, expected ${expected}`);
    return `first member read ${first.size}, resumed member read ${resumed.size}`;
  },

  async 'admin-topics'() {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = `${prefix}-admin`;
      check(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }),
        'createTopics reported that the topic existed');
      check((await admin.listTopics()).includes(topic), `listTopics lacks ${topic}`);
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      check(topics.length === 1 && topics[0].partitions.length === 3, `metadata ${JSON.stringify(topics)}`);
      await admin.deleteTopics({ topics: [topic], timeout: 10000 });
      const deadline = Date.now() + DEADLINE_MS;
      while ((await admin.listTopics()).includes(topic) && Date.now() < deadline);
      check(!(await admin.listTopics()).includes(topic), 'deleted topic still listed');
      return `created, listed, described and deleted ${topic}`;
    } finally {
      await admin.disconnect();
    }
  },

  async 'list-describe-groups'() {
    const topic = `${prefix}-groups`;
    const group = `${prefix}-listed`;
    await produce(topic, 3);
    // A member that stays until the group has been described.
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 1000 });
    const admin = kafka.admin();
    await Promise.all([consumer.connect(), admin.connect()]);
    try {
      let taken = 0;
      let done;
      const finished = new Promise((resolve) => { done = resolve; });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async () => { if (++taken === 3) done(); } });
      await withDeadline(finished, `group ${group} reading ${topic}`);
      await consumer.commitOffsets([{ topic, partition: 0, offset: '3' }]);

      const { groups } = await admin.listGroups();
      const listed = groups.find((g) => g.groupId === group);
      check(listed && listed.protocolType === 'consumer', `listGroups: ${JSON.stringify(groups)}`);
      const described = (await admin.describeGroups([group])).groups[0];
      check(described.state === 'Stable', `state ${described.state}`);
      check(described.protocolType === 'consumer', `protocolType ${described.protocolType}`);
      check(described.members.length === 1 && described.members[0].clientId === 'gregor-compat-kafkajs',
        `members ${JSON.stringify(described.members)}`);
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      check(offsets[0].partitions.find((p) => p.partition === 0).offset === '3', `offsets ${JSON.stringify(offsets)}`);
      return `listed and described ${group} (${described.state}, ${described.protocol})`;
    } finally {
      await consumer.disconnect();
      await admin.disconnect();
    }
  },

  async transactions() {
    const topic = `${prefix}-txn`;
    const group = `${prefix}-txn-offsets`;
    const admin = kafka.admin();
    await admin.connect();
    const producer = kafka.producer({ transactionalId: `${prefix}-txn-producer`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
      const rounds = [
        { commit: true, values: ['c0', 'c1', 'c2', 'c3', 'c4'], offset: '5' },
        { commit: false, values: ['a0', 'a1', 'a2'], offset: '9' },
        { commit: true, values: ['c5'], offset: '7' },
      ];
      for (const round of rounds) {
        const txn = await producer.transaction();
        await txn.send({ topic, messages: round.values.map((value) => ({ key: value, value })) });
        // offsets committed inside the transaction count only if it commits
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic, partitions: [{ partition: 0, offset: round.offset }] }] });
        await (round.commit ? txn.commit() : txn.abort());
      }
      const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
      const committedOffset = offsets[0].partitions.find((p) => p.partition === 0).offset;
      check(committedOffset === '7', `group offset ${committedOffset} after commit(5), abort(9), commit(7)`);

      // kafkajs consumers read committed data only unless told otherwise
      const consumer = kafka.consumer({ groupId: `${prefix}-txn-reader`, sessionTimeout: 10000, heartbeatInterval: 1000 });
      await consumer.connect();
      const seen = [];
      try {
        let done;
        const finished = new Promise((resolve) => { done = resolve; });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); if (seen.length >= 6) done(); } });
        await withDeadline(finished, `read_committed consumer of ${topic} (got ${seen.length})`);
      } finally {
        await consumer.disconnect();
      }
      check(JSON.stringify(seen.sort()) === JSON.stringify(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']), `read_committed saw ${seen}`);
      return `read_committed saw ${seen.length} committed records, the group offset moved only with committed transactions`;
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  },
};

scenarios[scenario]()
  .then((result) => {
    console.log(`PASS ${scenario}: ${result}`);
    process.exit(0);
  })
  .catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  });
