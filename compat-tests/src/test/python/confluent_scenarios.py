"""Scenarios for librdkafka through python3-confluent-kafka against a running Gregor broker.

Run as described in scenario_common.py.
"""
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from scenario_common import BOOTSTRAP, DEADLINE_S, PREFIX, check, run


_admin = None


def admin():
    """One client for the whole run: a dropped AdminClient destroys its handle and fails its futures."""
    global _admin
    if _admin is None:
        _admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    return _admin


def create_topic(name, partitions):
    futures = admin().create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                    operation_timeout=10, request_timeout=15)
    futures[name].result(timeout=20)


def produce_with_reports(topic, count, partition=None):
    """Produces keyed records; returns {(partition, offset): (key, value)} from the delivery reports."""
    delivered, failed = {}, []

    def on_delivery(err, msg):
        if err is not None:
            failed.append(str(err))
        else:
            delivered[(msg.partition(), msg.offset())] = (msg.key().decode(), msg.value().decode())

    producer = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 5})
    for i in range(count):
        kwargs = {} if partition is None else {"partition": partition}
        producer.produce(topic, key="key-%d" % (i % 5), value="value-%d" % i,
                         headers=[("seq", str(i).encode())], on_delivery=on_delivery, **kwargs)
        producer.poll(0)
    remaining = producer.flush(20)
    check(remaining == 0, "%d messages still undelivered after flush" % remaining)
    check(not failed, "delivery failures: %s" % failed[:5])
    check(len(delivered) == count, "delivery reports for %d of %d records" % (len(delivered), count))
    return delivered


def consumer(group, **extra):
    conf = {"bootstrap.servers": BOOTSTRAP, "group.id": group, "auto.offset.reset": "earliest",
            "enable.auto.commit": False, "session.timeout.ms": 10000}
    conf.update(extra)
    return Consumer(conf)


def poll_until(members, done, seen):
    deadline = time.time() + DEADLINE_S
    while not done() and time.time() < deadline:
        for member in members:
            msg = member.poll(0.2)
            if msg is None:
                continue
            if msg.error():
                raise KafkaException(msg.error())
            key = (msg.partition(), msg.offset())
            check(key not in seen, "record %s delivered twice" % (key,))
            seen[key] = (msg.key().decode(), msg.value().decode())
    return seen


def scenario_producer_delivery_reports():
    topic = PREFIX + "-reports"
    delivered = produce_with_reports(topic, 50)
    partitions_of_key = {}
    for (partition, _), (key, _) in delivered.items():
        partitions_of_key.setdefault(key, set()).add(partition)
    check(all(len(p) == 1 for p in partitions_of_key.values()), "a key spans partitions: %s" % partitions_of_key)
    offsets = sorted(o for (_, o) in delivered)
    check(offsets[0] == 0, "first offset is %d" % offsets[0])
    return "%d delivery reports, offsets %d..%d" % (len(delivered), offsets[0], offsets[-1])


def scenario_group_commit_resume():
    topic, group = PREFIX + "-group", PREFIX + "-group"
    produced = produce_with_reports(topic, 20)
    first = consumer(group)
    first.subscribe([topic])
    seen = {}
    poll_until([first], lambda: len(seen) >= 8, seen)
    check(len(seen) >= 8, "first member got %d records" % len(seen))
    first.commit(asynchronous=False)
    positions = first.position([TopicPartition(topic, p) for p in {p for (p, _) in seen}])
    committed = first.committed(positions, timeout=10)
    check({(tp.partition, tp.offset) for tp in committed} == {(tp.partition, tp.offset) for tp in positions},
          "committed %s but positions are %s" % (committed, positions))
    first.close()

    second = consumer(group)
    second.subscribe([topic])
    rest = {k: v for k, v in produced.items() if k not in seen}
    resumed = {}
    poll_until([second], lambda: len(resumed) >= len(rest), resumed)
    second.commit(asynchronous=False)
    second.close()
    check(resumed == rest, "resumed member read %s, expected %s" % (sorted(resumed), sorted(rest)))
    return "first member read %d, resumed member read %d" % (len(seen), len(resumed))


def scenario_rebalance_two_members():
    topic, group = PREFIX + "-rebalance", PREFIX + "-rebalance"
    create_topic(topic, 4)
    assignments = {"a": set(), "b": set()}

    def tracker(name):
        def on_assign(_, partitions):
            assignments[name] = {tp.partition for tp in partitions}

        def on_revoke(_, partitions):
            assignments[name] = set()
        return on_assign, on_revoke

    a, b = consumer(group, **{"client.id": "member-a"}), consumer(group, **{"client.id": "member-b"})
    a_assign, a_revoke = tracker("a")
    a.subscribe([topic], on_assign=a_assign, on_revoke=a_revoke)
    deadline = time.time() + DEADLINE_S
    while assignments["a"] != {0, 1, 2, 3} and time.time() < deadline:
        a.poll(0.2)
    check(assignments["a"] == {0, 1, 2, 3}, "lone member holds %s" % assignments["a"])

    b_assign, b_revoke = tracker("b")
    b.subscribe([topic], on_assign=b_assign, on_revoke=b_revoke)
    balanced = lambda: (assignments["a"] and assignments["b"]
                        and assignments["a"] | assignments["b"] == {0, 1, 2, 3}
                        and not assignments["a"] & assignments["b"])
    deadline = time.time() + DEADLINE_S
    while not balanced() and time.time() < deadline:
        a.poll(0.1)
        b.poll(0.1)
    check(balanced(), "after the second join: a=%s b=%s" % (assignments["a"], assignments["b"]))

    produced = {}
    for p in range(4):
        produced.update(produce_with_reports(topic, 5, partition=p))
    seen = {}
    poll_until([a, b], lambda: len(seen) >= len(produced), seen)
    check(seen == produced, "two members read %d of %d records" % (len(seen), len(produced)))

    b.close()
    deadline = time.time() + DEADLINE_S
    while assignments["a"] != {0, 1, 2, 3} and time.time() < deadline:
        a.poll(0.2)
    check(assignments["a"] == {0, 1, 2, 3}, "after b left, a holds %s" % assignments["a"])
    a.close()
    return "balanced 4 partitions over two members, read %d records, rebalanced back on leave" % len(seen)


def scenario_admin_topics_and_configs():
    client = admin()
    topic = PREFIX + "-admin"
    create_topic(topic, 2)
    metadata = client.list_topics(timeout=10)
    check(topic in metadata.topics, "list_topics lacks %s: %s" % (topic, sorted(metadata.topics)))
    described = client.list_topics(topic=topic, timeout=10).topics[topic]
    check(described.error is None, "describe %s: %s" % (topic, described.error))
    check(sorted(described.partitions) == [0, 1], "partitions %s" % sorted(described.partitions))

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = client.describe_configs([resource], request_timeout=15)[resource].result(timeout=20)
    check(configs["cleanup.policy"].value == "delete", "cleanup.policy=%s" % configs["cleanup.policy"].value)
    check(configs["retention.ms"].value == "604800000", "retention.ms=%s" % configs["retention.ms"].value)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "3600000"})
    client.alter_configs([resource], request_timeout=15)[resource].result(timeout=20)
    configs = client.describe_configs([resource], request_timeout=15)[resource].result(timeout=20)
    check(configs["retention.ms"].value == "3600000", "altered retention.ms=%s" % configs["retention.ms"].value)

    client.create_partitions([NewPartitions(topic, 5)], request_timeout=15)[topic].result(timeout=20)
    deadline = time.time() + DEADLINE_S
    while len(client.list_topics(topic=topic, timeout=10).topics[topic].partitions) != 5 and time.time() < deadline:
        time.sleep(0.1)
    check(len(client.list_topics(topic=topic, timeout=10).topics[topic].partitions) == 5, "not 5 partitions")

    client.delete_topics([topic], operation_timeout=10, request_timeout=15)[topic].result(timeout=20)
    deadline = time.time() + DEADLINE_S
    while topic in client.list_topics(timeout=10).topics and time.time() < deadline:
        time.sleep(0.1)
    check(topic not in client.list_topics(timeout=10).topics, "deleted topic still listed")
    return "created, listed, described, configured, grew to 5 partitions and deleted %s" % topic


def scenario_list_describe_groups():
    topic, group = PREFIX + "-groups", PREFIX + "-listed"
    produce_with_reports(topic, 3)
    member = consumer(group, **{"client.id": "listed-member"})
    member.subscribe([topic])
    seen = {}
    poll_until([member], lambda: len(seen) >= 3, seen)
    check(len(seen) == 3, "member read %d records" % len(seen))
    client = admin()
    groups = {g.id: g for g in client.list_groups(timeout=10)}
    check(group in groups, "list_groups lacks %s: %s" % (group, sorted(groups)))
    described = client.list_groups(group=group, timeout=10)
    check(len(described) == 1, "list_groups(group) returned %d groups" % len(described))
    g = described[0]
    check(g.state == "Stable", "state %s" % g.state)
    check(g.protocol_type == "consumer", "protocol type %s" % g.protocol_type)
    check(g.protocol in ("range", "roundrobin", "cooperative-sticky"), "protocol %s" % g.protocol)
    check(len(g.members) == 1 and g.members[0].client_id == "listed-member",
          "members %s" % [(m.id, m.client_id) for m in g.members])
    member.close()
    return "listed and described %s (%s, %s, 1 member)" % (group, g.state, g.protocol)


def scenario_transactional_producer():
    """librdkafka's transactional producer: a committed transaction is read by read_committed, an aborted one not."""
    topic = PREFIX + "-txn"
    create_topic(topic, 2)
    producer = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": PREFIX + "-txn-producer"})
    producer.init_transactions(20)
    producer.begin_transaction()
    for i in range(3):
        producer.produce(topic, key="k", value="committed-%d" % i, partition=i % 2)
    producer.commit_transaction(20)
    producer.begin_transaction()
    for i in range(2):
        producer.produce(topic, key="k", value="aborted-%d" % i, partition=i % 2)
    producer.flush(20)
    producer.abort_transaction(20)
    producer.begin_transaction()
    producer.produce(topic, key="k", value="committed-3", partition=1)
    producer.commit_transaction(20)

    reader = consumer(PREFIX + "-txn-reader", **{"isolation.level": "read_committed"})
    reader.subscribe([topic])
    seen = {}
    poll_until([reader], lambda: len(seen) >= 4, seen)

    def read_to_end():
        # past every marker: an aborted record the reader could still be handed lies behind its position
        assigned = reader.assignment()
        if len(assigned) != 2:
            return False
        positions = reader.position(assigned)
        return all(p.offset >= reader.get_watermark_offsets(p, timeout=10)[1] for p in positions)

    poll_until([reader], read_to_end, seen)
    check(read_to_end(), "the reader did not reach the end of %s" % topic)
    reader.close()
    values = sorted(v for _, v in seen.values())
    check(values == ["committed-0", "committed-1", "committed-2", "committed-3"], "read_committed saw %s" % values)
    return "read_committed saw the 4 committed records and none of the 2 aborted ones"


if __name__ == "__main__":
    run(globals())
