"""Scenarios for kafka-python (pure Python, Debian's python3-kafka) against a running Gregor broker.

Run as described in scenario_common.py.
"""
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from scenario_common import BOOTSTRAP, DEADLINE_S, PREFIX, check, run


def produce(topic, count):
    """Keyed records with a header; returns {(partition, offset): (key, value)} from the acks."""
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, key_serializer=str.encode, value_serializer=str.encode,
                             request_timeout_ms=10000)
    futures = [producer.send(topic, key="key-%d" % (i % 5), value="value-%d" % i,
                             headers=[("seq", str(i).encode())]) for i in range(count)]
    produced = {}
    for i, future in enumerate(futures):
        meta = future.get(timeout=20)
        produced[(meta.partition, meta.offset)] = ("key-%d" % (i % 5), "value-%d" % i)
    producer.close(timeout=10)
    check(len(produced) == count, "%d distinct offsets for %d records" % (len(produced), count))
    return produced


def consumer(group, topic, **extra):
    conf = dict(bootstrap_servers=BOOTSTRAP, group_id=group, auto_offset_reset="earliest",
                enable_auto_commit=False, key_deserializer=bytes.decode, value_deserializer=bytes.decode,
                session_timeout_ms=10000, heartbeat_interval_ms=1000, request_timeout_ms=15000)
    conf.update(extra)
    c = KafkaConsumer(**conf)
    c.subscribe([topic])
    return c


def poll_until(member, done, seen):
    deadline = time.time() + DEADLINE_S
    while not done() and time.time() < deadline:
        for records in member.poll(timeout_ms=200).values():
            for r in records:
                key = (r.partition, r.offset)
                check(key not in seen, "record %s delivered twice" % (key,))
                check(dict(r.headers).get("seq") == r.value.split("-")[1].encode(), "header of %s" % (key,))
                seen[key] = (r.key, r.value)
    return seen


def scenario_produce():
    produced = produce(PREFIX + "-produce", 30)
    return "30 records acknowledged at offsets %s" % sorted(o for (_, o) in produced)[:3]


def scenario_group_commit_resume():
    topic, group = PREFIX + "-group", PREFIX + "-group"
    produced = produce(topic, 20)
    first = consumer(group, topic, max_poll_records=5)
    seen = {}
    poll_until(first, lambda: len(seen) > 0, seen)
    check(seen, "first member received nothing")
    first.commit()
    for tp in {TopicPartition(topic, p) for (p, _) in seen}:
        check(first.committed(tp) == first.position(tp),
              "committed %s != position %s for %s" % (first.committed(tp), first.position(tp), tp))
    first.close()

    second = consumer(group, topic)
    rest = {k: v for k, v in produced.items() if k not in seen}
    resumed = {}
    poll_until(second, lambda: len(resumed) >= len(rest), resumed)
    second.commit()
    second.close()
    check(resumed == rest, "resumed member read %s, expected %s" % (sorted(resumed), sorted(rest)))
    return "first member read %d, resumed member read %d" % (len(seen), len(resumed))


def scenario_admin_topics():
    client = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    topic = PREFIX + "-admin"
    response = client.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)], timeout_ms=10000)
    check(all(err == 0 for (_, err, *_) in response.topic_errors), "create_topics: %s" % response.topic_errors)
    check(topic in client.list_topics(), "list_topics lacks %s" % topic)
    response = client.delete_topics([topic], timeout_ms=10000)
    check(all(err == 0 for (_, err) in response.topic_error_codes), "delete_topics: %s" % response.topic_error_codes)
    deadline = time.time() + DEADLINE_S
    while topic in client.list_topics() and time.time() < deadline:
        time.sleep(0.1)
    check(topic not in client.list_topics(), "deleted topic still listed")
    client.close()
    return "created, listed and deleted %s" % topic


def scenario_list_describe_groups():
    topic, group = PREFIX + "-groups", PREFIX + "-listed"
    produce(topic, 3)
    member = consumer(group, topic, client_id="listed-member")
    seen = {}
    poll_until(member, lambda: len(seen) >= 3, seen)
    check(len(seen) == 3, "member read %d records" % len(seen))
    member.commit()
    client = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=15000)
    groups = dict(client.list_consumer_groups())
    check(group in groups, "list_consumer_groups lacks %s: %s" % (group, sorted(groups)))
    check(groups[group] == "consumer", "protocol type %s" % groups[group])
    (described,) = client.describe_consumer_groups([group])
    check(described.state == "Stable", "state %s" % described.state)
    check(len(described.members) == 1 and described.members[0].client_id == "listed-member",
          "members %s" % (described.members,))
    offsets = client.list_consumer_group_offsets(group)
    check(offsets.get(TopicPartition(topic, 0)) is not None and offsets[TopicPartition(topic, 0)].offset == 3,
          "committed offsets %s" % offsets)
    member.close()
    client.close()
    return "listed and described %s (%s, %s)" % (group, described.state, described.protocol)


if __name__ == "__main__":
    run(globals())
