// tls_roundtrip.js - kafkajs over TLS: produces N messages (key kI, value
// tls-I) to partition 0 with acks -1, then reads them back in a consumer
// group from the beginning; prints the values read as one JSON line.
// Usage: node tls_roundtrip.js host:port topic group N ca.pem [cert.pem key.pem]
'use strict';
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, groupId, nArg, caPath, certPath, keyPath] = process.argv.slice(2);
if (!bootstrap || !topic || !groupId || !nArg || !caPath) {
    console.error('usage: node tls_roundtrip.js host:port topic group N ca.pem [cert.pem key.pem]');
    process.exit(2);
}
const n = parseInt(nArg, 10);
const ssl = { ca: [fs.readFileSync(caPath, 'utf-8')], rejectUnauthorized: true };
if (certPath) {
    ssl.cert = fs.readFileSync(certPath, 'utf-8');
    ssl.key = fs.readFileSync(keyPath, 'utf-8');
}
const kafka = new Kafka({
    clientId: 'sluice-it-tls',
    brokers: [bootstrap],
    ssl,
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

(async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
        const messages = [];
        for (let i = 0; i < n; i++)
            messages.push({ key: 'k' + i, value: 'tls-' + i, partition: 0 });
        await producer.send({ topic, acks: -1, timeout: 10000, messages });
    } finally {
        await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000, maxWaitTimeInMs: 500 });
    await consumer.connect();
    const got = [];
    let done;
    const finished = new Promise((resolve) => { done = resolve; });
    const timer = setTimeout(() => done('timeout'), 60000);
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
            eachMessage: async ({ message }) => {
                got.push(message.value.toString());
                if (got.length >= n) done('ok');
            },
        });
        const how = await finished;
        if (how !== 'ok') throw new Error('only ' + got.length + ' of ' + n + ' messages within 60 s');
        console.log(JSON.stringify(got));
    } finally {
        clearTimeout(timer);
        await consumer.disconnect();
    }
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
