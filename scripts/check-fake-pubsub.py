#!/usr/bin/env python3
"""Cross-checks a Pub/Sub endpoint (PUBSUB_EMULATOR_HOST) with Google-independent client code, gcloud-aio-pubsub:
creates a topic and subscription, publishes, pulls, checks the payload, nacks (modifyAckDeadline 0), pulls the
redelivery, acknowledges, and checks nothing is left. Prints OK on success; exits 2 when the library is missing.

Usage: PUBSUB_EMULATOR_HOST=127.0.0.1:PORT check-fake-pubsub.py TOPIC [PAYLOAD_TO_EXPECT]
Without PAYLOAD_TO_EXPECT it publishes its own message; with it, it only pulls and acknowledges that payload
(a message another client published).
"""
import asyncio, sys

try:
    import aiohttp
    from gcloud.aio.pubsub import PublisherClient, SubscriberClient, PubsubMessage
except ImportError:
    print("gcloud-aio-pubsub is not installed (pip install gcloud-aio-pubsub)")
    sys.exit(2)

PROJECT = "studio-emulator"


async def main(topic, expected):
    async with aiohttp.ClientSession() as session:
        publisher = PublisherClient(session=session)
        subscriber = SubscriberClient(session=session)
        topic_path = publisher.topic_path(PROJECT, topic)
        sub_path = "projects/%s/subscriptions/%s_sub" % (PROJECT, topic)
        if expected is None:
            expected = b'{"hello": "from gcloud-aio"}'
            try:
                await publisher.create_topic(topic_path)
            except aiohttp.ClientResponseError as error:
                assert error.status == 409, error
            try:
                await subscriber.create_subscription(sub_path, topic_path, body={"ackDeadlineSeconds": 10})
            except aiohttp.ClientResponseError as error:
                assert error.status == 409, error
            ids = await publisher.publish(topic_path, [PubsubMessage(expected)])
            assert len(ids["messageIds"]) == 1, ids
        else:
            expected = expected.encode()
        messages = await subscriber.pull(sub_path, max_messages=1, timeout=30)
        assert len(messages) == 1, messages
        assert messages[0].data == expected, (messages[0].data, expected)
        await subscriber.modify_ack_deadline(sub_path, [messages[0].ack_id], 0)
        again = await subscriber.pull(sub_path, max_messages=1, timeout=30)
        assert len(again) == 1 and again[0].message_id == messages[0].message_id, again
        assert again[0].ack_id != messages[0].ack_id
        await subscriber.acknowledge(sub_path, [again[0].ack_id])
        left = await subscriber.pull(sub_path, max_messages=1, timeout=30)
        assert left == [], left
        print("OK", again[0].message_id)


asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
