"""Faults injected over Gregor's HTTP control endpoint (urllib) seen by librdkafka via python3-confluent-kafka.

Run as described in scenario_common.py, with GREGOR_CONTROL=http://host:port in the environment.
"""
import json
import os
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from scenario_common import BOOTSTRAP, PREFIX, check, run

CONTROL = os.environ["GREGOR_CONTROL"]


def call(method, path, body=None):
    """Returns (status, parsed JSON or text) of one control endpoint call."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(CONTROL + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, (json.loads(text) if text.startswith(("{", "[")) else text)


def create_topic(name):
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(timeout=20)


def injected(api, client_id):
    status, entries = call("GET", "/trace")
    check(status == 200, "GET /trace answered %s" % status)
    return [e for e in entries if e["api"] == api and e["clientId"] == client_id and e["injected"]]


def scenario_produce_through_not_leader():
    topic, client_id = PREFIX + "-faults-produce", "ck-faults-producer"
    create_topic(topic)
    call("POST", "/trace", {"enabled": True})
    status, added = call("POST", "/faults", {"api": "PRODUCE", "error": "NOT_LEADER_OR_FOLLOWER", "times": 2,
                                             "clientId": client_id, "topic": None})
    check(status == 200, "POST /faults answered %s %s" % (status, added))
    delivered, failed = [], []

    def on_delivery(err, msg):
        (failed if err else delivered).append(err or msg.offset())

    producer = Producer({"bootstrap.servers": BOOTSTRAP, "client.id": client_id, "enable.idempotence": True,
                         "retry.backoff.ms": 10})
    for i in range(10):
        producer.produce(topic, value="v%d" % i, on_delivery=on_delivery)
    check(producer.flush(30) == 0, "records still undelivered")
    check(not failed, "delivery failures: %s" % failed)
    check(sorted(delivered) == list(range(10)), "offsets %s" % sorted(delivered))

    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": PREFIX + "-faults-check",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values, deadline = [], time.time() + 30
    while len(values) < 10 and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            values.append(msg.value().decode())
    consumer.close()
    check(values == ["v%d" % i for i in range(10)], "read back %s" % values)

    errors = injected("PRODUCE", client_id)
    check(len(errors) == 2, "trace shows %d injected PRODUCE answers: %s" % (len(errors), errors))
    check(all(e["errors"] == ["NOT_LEADER_OR_FOLLOWER"] for e in errors), "errors %s" % [e["errors"] for e in errors])
    check(len({e["correlationId"] for e in errors}) == 2, "correlation ids %s" % [e["correlationId"] for e in errors])
    call("DELETE", "/faults")
    call("DELETE", "/trace")
    return "10 records once each after 2 injected NOT_LEADER_OR_FOLLOWER answers"


def scenario_delayed_fetch():
    topic, client_id = PREFIX + "-faults-fetch", "ck-slow-consumer"
    create_topic(topic)
    producer = Producer({"bootstrap.servers": BOOTSTRAP})
    producer.produce(topic, value="late")
    check(producer.flush(20) == 0, "record undelivered")
    status, _ = call("POST", "/faults", {"api": "FETCH", "delayMs": 1500, "clientId": client_id})
    check(status == 200, "POST /faults answered %s" % status)
    consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": PREFIX + "-slow", "client.id": client_id,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    began, got = time.monotonic(), None
    while got is None and time.monotonic() - began < 30:
        msg = consumer.poll(0.5)
        if msg is not None and msg.error() is None:
            got = msg.value().decode()
    took = time.monotonic() - began
    consumer.close()
    call("DELETE", "/faults")
    check(got == "late", "consumed %s" % got)
    check(took >= 1.5, "the record came after %.3f s, before the 1.5 s delay" % took)
    return "record after %.2f s behind a 1.5 s fetch delay" % took


def scenario_bad_faults():
    status, body = call("POST", "/faults", {"api": "PRODUCTION", "error": "NOT_LEADER_OR_FOLLOWER"})
    check(status == 400 and "Unknown API" in body["error"], "unknown API: %s %s" % (status, body))
    status, body = call("POST", "/faults", {"api": "PRODUCE", "error": "NO_SUCH_ERROR"})
    check(status == 400 and "Unknown error" in body["error"], "unknown error: %s %s" % (status, body))
    status, body = call("GET", "/faults")
    check(status == 405, "GET /faults: %s %s" % (status, body))
    return "unknown API and error names refused with 400 and a JSON error"


if __name__ == "__main__":
    run(globals())
