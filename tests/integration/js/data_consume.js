// data_consume.js - kafkajs consumer in a group: reads a topic from the beginning
// until N messages arrived (or 60 s passed), prints them as one JSON line
// [{partition, offset, key, value}]. Usage: node data_consume.js host:port topic group N
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const [bootstrap, topic, groupId, nArg] = process.argv.slice(2);
if (!bootstrap || !topic || !groupId || !nArg) {
    console.error('usage: node data_consume.js host:port topic group N');
    process.exit(2);
}
const n = parseInt(nArg, 10);
const kafka = new Kafka({
    clientId: 'sluice-it',
    brokers: [bootstrap],
    connectionTimeout: 5000,
    requestTimeout: 15000,
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.ERROR,
});

(async () => {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, rebalanceTimeout: 10000, maxWaitTimeInMs: 500 });
    await consumer.connect();
    const got = [];
    let done;
    const finished = new Promise((resolve) => { done = resolve; });
    const timer = setTimeout(() => done('timeout'), 60000);
    try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
            eachMessage: async ({ partition, message }) => {
                got.push({ partition, offset: message.offset, key: message.key && message.key.toString(),
                           value: message.value && message.value.toString() });
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
