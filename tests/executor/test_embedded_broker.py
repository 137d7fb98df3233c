"""The embedded desk's broker (tradedesk/memory_broker.py): a consumer with nothing to take
sleeps until a message arrives or one held back by the prefetch limit becomes takeable, instead
of polling. Each test gives the transport an hour-long polling interval: a consumer that polled
would sleep through the test's deadline."""

import threading
import uuid

from django.conf import settings
from kombu import Connection, Consumer, Exchange, Producer, Queue

HOUR = 3600.0


def _connection() -> Connection:
    return Connection(
        "memory://", transport=settings.CELERY_BROKER_TRANSPORT, transport_options={"polling_interval": HOUR}
    )


def _queue() -> Queue:
    name = f"test-{uuid.uuid4().hex}"
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


def _drain_in_thread(connection: Connection) -> threading.Thread:
    drained = threading.Thread(target=connection.drain_events, kwargs={"timeout": HOUR}, daemon=True)
    drained.start()
    return drained


def test_the_embedded_desk_uses_the_woken_transport() -> None:
    assert settings.CELERY_BROKER_URL == "memory://"
    assert settings.CELERY_BROKER_TRANSPORT == "tradedesk.memory_broker:Transport"


def test_a_waiting_consumer_takes_a_message_published_from_another_thread() -> None:
    queue, got = _queue(), []
    with _connection() as consumer_side, _connection() as producer_side:
        with Consumer(consumer_side, [queue], callbacks=[lambda body, message: got.append(body)]):
            drained = _drain_in_thread(consumer_side)
            Producer(producer_side).publish(
                {"n": 1}, exchange=queue.exchange, routing_key=queue.routing_key, declare=[queue]
            )
            drained.join(timeout=10)
    assert not drained.is_alive()
    assert got == [{"n": 1}]


def test_an_ack_wakes_a_consumer_held_back_by_its_prefetch_limit() -> None:
    queue, got = _queue(), []
    with _connection() as connection:
        producer = Producer(connection)
        for n in (1, 2):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=queue.routing_key, declare=[queue])
        with Consumer(connection, [queue], callbacks=[lambda body, message: got.append(message)]) as consumer:
            consumer.qos(prefetch_count=1)
            connection.drain_events(timeout=10)
            assert [message.payload for message in got] == [{"n": 1}]
            drained = _drain_in_thread(connection)  # the second waits behind the unacked first
            got[0].ack()
            drained.join(timeout=10)
    assert not drained.is_alive()
    assert [message.payload for message in got] == [{"n": 1}, {"n": 2}]
