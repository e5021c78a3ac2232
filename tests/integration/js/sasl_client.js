// sasl_client.js - kafkajs over SASL for test_sasl.py: produces one message
// to a topic and reads it back, authenticating with the given mechanism.
// Prints one JSON line: {"ok": true, "value": "..."} or
// {"ok": false, "name": ..., "message": ..., "type": ...}.
// Usage: node sasl_client.js host:port mechanism user password topic value [pause_ms]
//   mechanism: plain, scram-sha-256 or scram-sha-512 (kafkajs spelling)
//   pause_ms: produce value, wait pause_ms on the same connections, produce
//   it again (re-authentication test: kafkajs re-authenticates when the
//   broker's SessionLifetimeMs runs short), then read both back.
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, mechanism, username, password, topic, value, pauseArg] = process.argv.slice(2);
const pauseMs = Number(pauseArg || 0);
if (!value) {
    console.error('usage: node sasl_client.js host:port mechanism user password topic value');
    process.exit(2);
}
const kafka = new Kafka({
    clientId: 'sluice-it-sasl',
    brokers: [bootstrap],
    sasl: { mechanism, username, password },
    connectionTimeout: 5000,
    authenticationTimeout: 5000,
    requestTimeout: 10000,
    retry: { retries: 5, initialRetryTime: 200 },
    logLevel: logLevel.NOTHING,
});

(async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    const consumer = kafka.consumer({ groupId: 'sasl-js-' + Date.now() });
    try {
        await producer.connect();
        await producer.send({ topic, messages: [{ value }] });
        if (pauseMs > 0) {
            await new Promise((resolve) => setTimeout(resolve, pauseMs));
            await producer.send({ topic, messages: [{ value }] });
        }
        await producer.disconnect();
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        const want = pauseMs > 0 ? 2 : 1;
        let seen = 0;
        const got = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('not every message within 20 s')), 20000);
            consumer.run({
                eachMessage: async ({ message }) => {
                    const v = message.value.toString();
                    if (v === value && ++seen === want) {
                        clearTimeout(timer);
                        resolve(v);
                    }
                },
            }).catch(reject);
        });
        console.log(JSON.stringify({ ok: true, value: got }));
    } catch (e) {
        console.log(JSON.stringify({ ok: false, name: e.name, message: e.message, type: e.type || null }));
    } finally {
        await consumer.disconnect().catch(() => {});
        await producer.disconnect().catch(() => {});
    }
})();
