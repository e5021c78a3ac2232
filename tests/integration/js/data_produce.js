// data_produce.js - kafkajs producer: sends N messages (key kI, value js-I) to
// partition I % 2 of a topic with acks -1, one send() call; prints the
// RecordMetadata list as one JSON line. Usage: node data_produce.js host:port topic N
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, nArg] = process.argv.slice(2);
if (!bootstrap || !topic || !nArg) {
    console.error('usage: node data_produce.js host:port topic N');
    process.exit(2);
}
const n = parseInt(nArg, 10);
const kafka = new Kafka({
    clientId: 'sluice-it',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

(async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
        const messages = [];
        for (let i = 0; i < n; i++)
            messages.push({ key: 'k' + i, value: 'js-' + i, partition: i % 2 });
        const res = await producer.send({ topic, acks: -1, timeout: 10000, messages });
        console.log(JSON.stringify(res));
    } finally {
        await producer.disconnect();
    }
})().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
